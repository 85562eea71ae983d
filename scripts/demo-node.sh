#!/usr/bin/env bash
# The end of `make demo`: a node (`ward serve --dev`) on a fresh data
# directory, the SDK token deployed and used through it with the CLI and
# JSON arguments (one transfer signed by a key file made here), its events
# and balances decoded by the token's schema, a storage proof fetched from
# the node and checked against its state root, then a graceful stop.
# Usage: scripts/demo-node.sh WARD DIR CONTRACTS
set -euo pipefail
WARD=$1 DIR=$2 CONTRACTS=$3
BOB=0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0
rm -rf "$DIR"
mkdir -p "$DIR"
. "$(dirname "$0")/dev-node.sh"
dev_node_serve "$DIR"
URL=${WARD_RPC%/}
export WARD_NODE=$URL
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | tail -1; }

echo "== a node: ward serve --dev at $URL ($DIR/data); the CLI sends through it =="
TOKEN=$("$WARD" deploy "$CONTRACTS/token.wasm" --json-args '{"initial_supply": "1000000"}' --json | field address)
echo "token deployed by dev account 0 at $TOKEN; its methods, from the schema in its module:"
"$WARD" methods "$TOKEN"
echo "== a transfer with JSON arguments; the receipt shows the event decoded by the schema =="
"$WARD" call "$TOKEN" --method transfer --json-args "{\"to\": \"$BOB\", \"amount\": \"250\"}"
"$WARD" key new "$DIR/me.json" >/dev/null
ME=$("$WARD" key show "$DIR/me.json" --json | field address)
echo "== a key file ($DIR/me.json, account $ME) signs its own transfer (the raw codec works too) =="
"$WARD" call "$TOKEN" --method transfer --arg "address:$ME" --arg u128:100 >/dev/null
"$WARD" call "$TOKEN" --method transfer --arg "address:$BOB" --arg u128:40 --key "$DIR/me.json" --json
echo "== balances as JSON, decoded by the schema =="
for WHO in "$BOB" "$ME"; do
  "$WARD" query "$TOKEN" --method balance_of --json-args "{\"who\": \"$WHO\"}" --json
done

echo "== bob's balance with its proof against the latest state root =="
KEY=$("$WARD" state "$TOKEN" --json | tr '{' '\n' | grep -i "${BOB#0x}" | field key)
"$WARD" state "$TOKEN" "$KEY" --proof >"$DIR/proof.json"
ROOT=$(field state_root <"$DIR/proof.json")
"$WARD" verify-proof --root "$ROOT" "$DIR/proof.json"
echo "== and against another root, the same proof fails (exit 1 expected) =="
"$WARD" verify-proof --root "0x$(printf '11%.0s' $(seq 1 32))" "$DIR/proof.json" || test $? -eq 1

kill -TERM "$PID"
wait "$PID"
PID=
echo "== the node stopped on SIGTERM (exit 0) =="
echo "== to explore this chain in a browser, start the node again on its data directory: =="
echo "   $WARD serve --dev --data-dir $DIR/data"
echo "   and open http://127.0.0.1:8645/ (the explorer: blocks, transactions, contracts)"
