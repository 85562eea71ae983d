#!/usr/bin/env bash
# Installs what the Go package's tests need (Debian's golang-go, Go 1.19:
# bindings/go uses the standard library and cgo only, so nothing is
# fetched) when it is missing and this user is root; otherwise says why
# the test will skip. Idempotent: nothing happens when Go is there.
set -euo pipefail
if command -v go >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "go: Go is missing and this is not root with apt-get:" >&2
  echo "go: the Go package's tests will skip (install golang-go to run them)" >&2
  exit 0
fi
echo "go: installing Debian's golang-go for the Go package's tests (bindings/go)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq golang-go >/dev/null
