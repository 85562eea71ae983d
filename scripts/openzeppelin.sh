#!/usr/bin/env bash
# OpenZeppelin Contracts v5.1.0's own Hardhat test suite, its test files
# unchanged, against a Ward dev node on each backend, beside the same
# suite on Hardhat's own network (docs/ethereum.md, "Conformance").
#
#   scripts/openzeppelin.sh WARD CACHE [all|gate] [BACKEND...]
#
# `all` (make openzeppelin): every test file, on Hardhat's network and on
# Ward (default: both backends); `gate` (make test): the fixed part
# (ERC-20 and its extensions, access, utils/cryptography) on Ward alone.
# Either fails when Ward fails a test that
# testing/openzeppelin/known-failures.txt does not list with its cause.
#
# The suite comes from WARD_OPENZEPPELIN_DIR, else the team's offline copy
# (../shared/openzeppelin-contracts-5.1.0, or under WARD_SHARED_DIR), else
# a fetch of the upstream tag's commit into CACHE. It is copied to
# CACHE/suite with testing/openzeppelin/ward.config.js beside its own
# config, installed with `npm ci` (again only when its lock file changes),
# and compiled by npm's solcjs (testing/openzeppelin's lock pins it) in
# chunks, for `gate` only the contracts its tests deploy; Hardhat's cache
# keeps the artifacts between runs.
set -euo pipefail
WARD=$(realpath "$1")
CACHE=$(mkdir -p "$2" && realpath "$2")
PART=${3:-all}
shift $(($# < 3 ? $# : 3))
BACKENDS=("$@")
[ ${#BACKENDS[@]} -gt 0 ] || BACKENDS=(wasmtime wasmi)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/testing/openzeppelin
SHARED=${WARD_SHARED_DIR:-$ROOT/../shared}
OZ_URL=${WARD_OPENZEPPELIN_URL:-https://github.com/OpenZeppelin/openzeppelin-contracts}
# Tag v5.1.0.
OZ_COMMIT=69c8def5f222ff96f2b5beff05dfba996368aa79
# The dev node answers as Hardhat's network does, so that its network
# helpers (loadFixture, time, mine) drive it (docs/ethereum.md).
CLIENT_VERSION=HardhatNetwork/2.22.2/ward
# A transaction's gas limit in EVM gas, Hardhat's block gas limit: the
# chain's max_tx_gas and max_block_gas are 64 Ward gas for each. Hardhat's
# network sends every transaction with its block's gas limit; the suite's
# `localhost` network does the same (ward.config.js), and the node answers
# a send whose transaction fails with the revert as Hardhat's does
# (--throw-on-tx-failures).
export WARD_TX_GAS=30000000
CHAIN_GAS=$((WARD_TX_GAS * 64))
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
. "$ROOT/scripts/dev-node.sh"

case $PART in
  all) FILES=() ;;
  gate) FILES=(test/token/ERC20 test/access test/utils/cryptography) ;;
  *) echo "openzeppelin: unknown part $PART (all, gate)"; exit 2 ;;
esac

for command in node npm git; do
  command -v $command >/dev/null || { echo "openzeppelin: $command is missing (make test installs nodejs and npm)"; exit 1; }
done

# The suite's source: a directory with its contracts, tests and lock file.
source_dir() {
  if [ -n "${WARD_OPENZEPPELIN_DIR:-}" ]; then
    echo "$WARD_OPENZEPPELIN_DIR"
  elif [ -f "$SHARED/openzeppelin-contracts-5.1.0/package-lock.json" ]; then
    (cd "$SHARED/openzeppelin-contracts-5.1.0" && pwd)
  else
    local dir=$CACHE/source-${OZ_COMMIT:0:8}
    if [ "$(cat "$dir/.ward-fetched" 2>/dev/null)" != "$OZ_COMMIT" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      git -C "$dir" init -q
      git -C "$dir" fetch -q --depth 1 "$OZ_URL" "$OZ_COMMIT" \
        || { echo "openzeppelin: could not fetch $OZ_URL at ${OZ_COMMIT:0:8}: point WARD_OPENZEPPELIN_DIR at a copy" >&2; exit 1; }
      git -C "$dir" -c advice.detachedHead=false checkout -q FETCH_HEAD
      echo "$OZ_COMMIT" >"$dir/.ward-fetched"
    fi
    echo "$dir"
  fi
}

SOURCE=$(source_dir)
SUITE=$CACHE/suite
mkdir -p "$SUITE"
# The suite's own files (mtimes kept, so Hardhat's cache holds), and the
# config that wraps its own.
(cd "$SOURCE" && tar --exclude=./node_modules --exclude=./artifacts --exclude=./cache \
  --exclude=./contracts-exposed --exclude=./.git -cf - .) | (cd "$SUITE" && tar -xf -)
chmod -R u+w "$SUITE"
cp "$HERE/ward.config.js" "$SUITE/ward.config.js"

# npm ci in DIR when LOCK changed since the last install there.
npm_ci() {
  local dir=$1 lock=$2 stamp
  stamp=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "openzeppelin: npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --silent --no-audit --no-fund >/dev/null)
    echo "$stamp" >"$dir/.installed"
  fi
}
npm_ci "$SUITE" "$SUITE/package-lock.json"
mkdir -p "$CACHE/solc"
cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/solc/"
npm_ci "$CACHE/solc" "$HERE/package-lock.json"
export WARD_SOLCJS=$CACHE/solc/node_modules/solc/soljson.js

# The gate's part compiles the contracts its tests name, and what they
# import (ward.config.js, WARD_COMPILE_FOR); `all` compiles every file.
if [ "$PART" = gate ]; then export WARD_COMPILE_FOR="${FILES[*]}"; fi
echo "openzeppelin: compiling (solcjs, cached by Hardhat)"
(cd "$SUITE" && npx hardhat --config ward.config.js compile --quiet)

# Test files: the part's, as paths under the suite.
test_files() {
  local dir
  for dir in "${FILES[@]}"; do
    find "$SUITE/$dir" -name '*.test.js' | sort
  done
}
mapfile -t TESTS < <(test_files)

# A fresh dev node on backend $1 (scripts/dev-node.sh), its chain like
# Hardhat's network: the test mnemonic's accounts with 10 000 ETH each, a
# 1 gwei base fee, chain id 31337, and a block (and a transaction) of
# WARD_TX_GAS EVM gas: OpenZeppelin's exposed mocks are large contracts,
# whose deploys need more than Ward's default 200 000 000 Ward gas (3 125
# 000 EVM gas). Sets WARD_RPC.
start_node() {
  dev_node_start "$CACHE/node-$1" ward-openzeppelin "$CHAIN_GAS" \
    --client-version "$CLIENT_VERSION" --throw-on-tx-failures --backend "$1"
}

# Runs the suite on network $1, mocha's report into $2.
run_suite() {
  local network=$1 report=$2 started
  started=$(date +%s)
  rm -f "$report"
  (cd "$SUITE" && WARD_MOCHA_JSON=$report timeout 7200 \
    npx hardhat --config ward.config.js test --no-compile --network "$network" "${TESTS[@]}" \
    >"$report.log" 2>&1) || true
  [ -s "$report" ] || { echo "openzeppelin: the $network run wrote no report"; tail -20 "$report.log"; exit 1; }
  echo "openzeppelin: $network run took $(($(date +%s) - started)) s"
}

REPORTS=()
if [ "$PART" = all ]; then
  # WARD_OZ_BASELINE=reuse: compare with the last Hardhat run's report
  # instead of running it again.
  if [ "${WARD_OZ_BASELINE:-run}" != reuse ] || [ ! -s "$CACHE/hardhat.json" ]; then
    echo "openzeppelin: the suite on Hardhat's own network"
    run_suite hardhat "$CACHE/hardhat.json"
  fi
  REPORTS+=("hardhat=$CACHE/hardhat.json")
fi
for backend in "${BACKENDS[@]}"; do
  start_node "$backend"
  echo "openzeppelin: the suite on a Ward dev node ($backend) at $WARD_RPC"
  run_suite localhost "$CACHE/ward-$backend.json"
  dev_node_stop
  REPORTS+=("ward-$backend=$CACHE/ward-$backend.json")
done
node "$HERE/compare.js" "$HERE/known-failures.txt" "${REPORTS[@]}"
