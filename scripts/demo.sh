#!/usr/bin/env bash
# `make demo`'s steps, with a `ward` binary already built (the README's
# first command; `make test` runs them too, with the binary its tests
# built, so that a change cannot break them unnoticed):
#   scripts/demo.sh WARD
# Needs the example contracts (`make contracts`).
set -euo pipefail
WARD=$1
cd "$(dirname "$0")/.."
DEMO_DIR=target/demo-data
BOB=0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0
echo "== a raw module (examples/hello.wat), input 'ward', on both backends =="
"$WARD" run examples/hello.wat --input 0x77617264 --backend wasmtime
"$WARD" run examples/hello.wat --input 0x77617264 --backend wasmi
echo "== a hostile module (an infinite loop): out of gas at the same gas on both (exit code 1 expected) =="
"$WARD" run examples/spin.wat --gas 1000000 --json --backend wasmtime || test $? -eq 1
"$WARD" run examples/spin.wat --gas 1000000 --json --backend wasmi || test $? -eq 1
echo "== a WASI program (examples/wasi-hello.wat, docs/wasi.md): stdin in, stdout out, same gas on both =="
"$WARD" run --wasi examples/wasi-hello.wat --input 0x77617264 --backend wasmtime
"$WARD" run --wasi examples/wasi-hello.wat --input 0x77617264 --backend wasmi
echo "== the SDK-built token and escrow in a fresh data directory ($DEMO_DIR, redb) =="
rm -rf "$DEMO_DIR"
"$WARD" demo --data-dir "$DEMO_DIR" > target/demo.log || { cat target/demo.log; exit 1; }
cat target/demo.log
TOKEN=$(sed -n 's/^token contract: *//p' target/demo.log)
echo "== a new process opens $DEMO_DIR again, on the other backend: bob's balance, then the token's storage =="
"$WARD" query "$TOKEN" --method balance_of --arg "address:$BOB" --decode u128 --data-dir "$DEMO_DIR" --backend wasmi
"$WARD" state "$TOKEN" --data-dir "$DEMO_DIR"
scripts/demo-evm.sh "$WARD" target/demo-evm
scripts/demo-node.sh "$WARD" target/demo-node target/contracts/wasm32-unknown-unknown/release
scripts/eth-clients.sh "$WARD" target/eth-clients demo
