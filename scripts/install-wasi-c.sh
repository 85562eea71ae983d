#!/usr/bin/env bash
# Installs what the WASI C programs' test needs (Debian's clang, lld,
# wasi-libc and libclang-rt-14-dev-wasm32: clang 14 knows the target as
# `wasm32-wasi`) when it is missing and this user is root; otherwise says
# why the test will skip. Idempotent: nothing happens when all are there.
set -euo pipefail
if command -v clang >/dev/null && command -v wasm-ld >/dev/null &&
   dpkg -s wasi-libc libclang-rt-14-dev-wasm32 >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "wasi-c: clang, lld, wasi-libc or libclang-rt-14-dev-wasm32 is missing and this is not root with apt-get:" >&2
  echo "wasi-c: the WASI C programs' test will skip (install them to run it)" >&2
  exit 0
fi
echo "wasi-c: installing Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 for the WASI C programs' test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq clang lld wasi-libc libclang-rt-14-dev-wasm32 >/dev/null
