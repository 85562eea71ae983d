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
# genesis like a public chain's, with a base fee of 1 gwei (a dev chain's
# own is 0), so that fees are paid and every balance check counts them;
# the test mnemonic's first ten accounts hold 10 000 ETH each.
DEV_ACCOUNTS=(
  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x90F79bf6EB2c4f870365E785982E1f101E93b906
  0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc
  0x976EA74026E726554dB657fA54763abd0C3a0aa9 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
  0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720
)

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

PID=
stop_node() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
trap stop_node EXIT

# A fresh dev node on a free port: sets WARD_RPC and WARD_WS.
start_node() {
  local dir=$CACHE/node-$1
  rm -rf "$dir"
  mkdir -p "$dir"
  local funds=()
  for address in "${DEV_ACCOUNTS[@]}"; do
    funds+=(--fund "0x000000000000000000000000${address#0x}=10000000000000000000000")
  done
  "$WARD" genesis "$dir/genesis.json" --chain-id ward-eth-clients --eth-chain-id 31337 \
    --min-gas-price 1000000000 "${funds[@]}" >/dev/null
  "$WARD" serve --dev --genesis "$dir/genesis.json" --data-dir "$dir/data" --listen 127.0.0.1:0 >"$dir/serve.out" 2>"$dir/serve.log" &
  PID=$!
  local url=
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^listening on //p' "$dir/serve.out")
    [ -n "$url" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "ward serve did not start"; cat "$dir/serve.log"; exit 1; }
  export WARD_RPC=${url%/}/ WARD_WS=${url/http:/ws:}
  WARD_WS=${WARD_WS%/}/ws
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
      stop_node
      ;;
    ethers | viem | cast)
      need node nodejs
      need npm npm
      npm_install "$ROOT/testing/ethereum" js
      rust_erc20
      start_node "$suite"
      echo "== $suite (node --test) against $WARD_RPC =="
      (cd "$CACHE/js" && timeout 600 node --test "./$suite.test.mjs")
      stop_node
      ;;
    web3)
      need python3 python3
      python3 -c 'import ensurepip' 2>/dev/null || need_package python3-venv
      pip_install
      rust_erc20
      start_node web3
      echo "== web3.py, eth-account and the execution APIs' schemas (pytest) against $WARD_RPC =="
      timeout 600 "$CACHE/py/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/testing/ethereum"
      stop_node
      ;;
    hardhat)
      need node nodejs
      need npm npm
      npm_install "$ROOT/examples/hardhat" hardhat
      start_node hardhat
      echo "== Hardhat 2 (npx hardhat test --network ward --no-compile) against $WARD_RPC =="
      (cd "$CACHE/hardhat" && HARDHAT_DISABLE_TELEMETRY_PROMPT=true timeout 600 \
        npx hardhat test --network ward --no-compile)
      stop_node
      ;;
    *)
      echo "eth-clients: unknown suite $suite (ethers, viem, cast, web3, hardhat, demo)"
      exit 2
      ;;
  esac
done
