#!/usr/bin/env bash
# Installs what the explorer's browser test needs (Debian's chromium and
# chromium-driver) when it is missing and this user is root; otherwise says
# why the test will skip. Idempotent: nothing happens when both are there.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "browser: chromium and chromium-driver are missing and this is not root with apt-get:" >&2
  echo "browser: the explorer's browser test will skip (install them to run it)" >&2
  exit 0
fi
echo "browser: installing Debian's chromium and chromium-driver for the explorer's browser test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
