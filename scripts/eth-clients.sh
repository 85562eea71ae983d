#!/usr/bin/env bash
# Real Ethereum clients against a Ward dev node (docs/ethereum.md):
# ethers v6, viem and Foundry's cast with node's test runner
# (testing/ethereum/{ethers,viem,cast}.test.mjs), web3.py and eth-account
# with pytest (testing/ethereum/test_*.py, the execution APIs' schemas
# among them; ethers and web3.py also deploy the Rust ERC-20 that `ward
# build` makes ABI JSON and bytecode for) and Hardhat 2 (examples/hardhat, `npx hardhat test --network
# ward --no-compile`), each against a fresh `ward serve --dev` on a free
# loopback port, stopped after. The clients come from npm and PyPI at the
# versions the lock files and requirements.txt pin, installed under CACHE
# and installed again only when those files change.
#
# `demo` runs testing/ethereum/demo.mjs instead, for `make demo`.
#
# Usage: scripts/eth-clients.sh WARD CACHE [ethers|viem|cast|web3|hardhat|demo]...
set -euo pipefail
WARD=$(realpath "$1")
CACHE=$(mkdir -p "$2" && realpath "$2")
shift 2
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(ethers viem cast web3 hardhat)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export WARD_SOLIDITY=$ROOT/contracts/evm/solidity
# The chain the clients meet: a dev node (`--dev`: the mnemonic's
# accounts in eth_accounts, eth_sendTransaction, evm_* controls) on a
# genesis like a public chain's (scripts/dev-node.sh).
. "$ROOT/scripts/dev-node.sh"

# Command $1, from Debian package $2 (installed as root when missing).
need() {
  command -v "$1" >/dev/null || need_package "$2"
}

need_package() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "eth-clients: installing $1 (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "eth-clients: Debian's $1 is missing: install it (as root: apt-get install $1)"
    exit 1
  fi
}

# Copies DIR's files (not node_modules) to CACHE/NAME and runs `npm ci`
# there when its lock file changed since the last install.
npm_install() {
  local dir=$1 name=$2 into=$CACHE/$2
  mkdir -p "$into"
  (cd "$dir" && tar --exclude=node_modules --exclude=cache -cf - .) | (cd "$into" && tar -xf -)
  local stamp
  stamp=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$into/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "eth-clients: npm ci ($name)"
    (cd "$into" && npm ci --silent --no-audit --no-fund >/dev/null)
    echo "$stamp" >"$into/.installed"
  fi
}

pip_install() {
  local into=$CACHE/py stamp
  stamp=$(sha256sum "$ROOT/testing/ethereum/requirements.txt" | cut -d' ' -f1)
  if [ "$(cat "$into/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "eth-clients: pip install (web3.py, eth-account, pytest, jsonschema)"
    rm -rf "$into"
    python3 -m venv "$into"
    "$into/bin/pip" install -q --disable-pip-version-check -r "$ROOT/testing/ethereum/requirements.txt"
    echo "$stamp" >"$into/.installed"
  fi
}

# A fresh dev node on a free port: sets WARD_RPC and WARD_WS.
start_node() {
  dev_node_start "$CACHE/node-$1" ward-eth-clients ""
}

# The Rust ERC-20's ABI JSON and bytecode, as `ward build` writes them for
# Ethereum tools (docs/contracts.md), into target/contracts, where `make
# contracts` built its module: sets WARD_RUST_ERC20, their directory.
rust_erc20() {
  [ -z "${WARD_RUST_ERC20:-}" ] || return 0
  local out abi
  out=$(CARGO_TARGET_DIR=$ROOT/target/contracts "$WARD" build --path "$ROOT/contracts/erc20" --locked --json | tail -1)
  abi=$(sed -n 's/.*"abi":"\([^"]*\)".*/\1/p' <<<"$out")
  [ -n "$abi" ] || { echo "eth-clients: ward build gave no ABI: $out"; exit 1; }
  export WARD_RUST_ERC20=$(dirname "$abi")
}

for suite in "${SUITES[@]}"; do
  case $suite in
    demo)
      need node nodejs
      need npm npm
      npm_install "$ROOT/testing/ethereum" js
      start_node demo
      echo "== ethers v6 deploys and calls a Solidity ERC-20 on ward serve --dev at $WARD_RPC =="
      (cd "$CACHE/js" && timeout 300 node demo.mjs)
      dev_node_stop
      ;;
    ethers | viem | cast)
      need node nodejs
      need npm npm
      npm_install "$ROOT/testing/ethereum" js
      rust_erc20
      start_node "$suite"
      echo "== $suite (node --test) against $WARD_RPC =="
      (cd "$CACHE/js" && timeout 600 node --test "./$suite.test.mjs")
      dev_node_stop
      ;;
    web3)
      need python3 python3
      python3 -c 'import ensurepip' 2>/dev/null || need_package python3-venv
      pip_install
      rust_erc20
      start_node web3
      echo "== web3.py, eth-account and the execution APIs' schemas (pytest) against $WARD_RPC =="
      timeout 600 "$CACHE/py/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/testing/ethereum"
      dev_node_stop
      ;;
    hardhat)
      need node nodejs
      need npm npm
      npm_install "$ROOT/examples/hardhat" hardhat
      start_node hardhat
      echo "== Hardhat 2 (npx hardhat test --network ward --no-compile) against $WARD_RPC =="
      (cd "$CACHE/hardhat" && HARDHAT_DISABLE_TELEMETRY_PROMPT=true timeout 600 \
        npx hardhat test --network ward --no-compile)
      dev_node_stop
      ;;
    *)
      echo "eth-clients: unknown suite $suite (ethers, viem, cast, web3, hardhat, demo)"
      exit 2
      ;;
  esac
done
