#!/usr/bin/env bash
# Part of `make demo`: Solidity on Ward (docs/evm.md). In a fresh data
# directory, with the EVM system runtime built by `make contracts`: the
# solc ERC-20 and an escrow that calls it, deployed and used through the
# CLI with their ABI JSON (arguments encoded, outputs, reverts and events
# decoded); the last read on the other backend.
# Usage: scripts/demo-evm.sh WARD DIR
set -euo pipefail
WARD=$1 DIR=$2
SOL=contracts/evm/solidity
rm -rf "$DIR"
ALICE=0x0101010101010101010101010101010101010101 # the CLI's default sender
SELLER=0x5e115e115e115e115e115e115e115e115e115e11
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -1; }

echo "== Solidity: the ERC-20 (contracts/evm/solidity/Token.sol) deployed for the evm runtime =="
TOKEN=$("$WARD" deploy --runtime evm $SOL/Token.bin --abi $SOL/Token.abi \
  --json-args '[1000000]' --data-dir "$DIR" --json | field address)
echo "token at $TOKEN (a 20-byte EVM address: 0x${TOKEN:26})"
ESCROW=$("$WARD" deploy --runtime evm $SOL/Escrow.bin --abi $SOL/Escrow.abi \
  --json-args "[\"0x${TOKEN:26}\"]" --data-dir "$DIR" --json | field address)
echo "escrow at $ESCROW, holding the token's address"

echo "== alice approves the escrow, then opens a deal: the escrow calls the token (EVM to EVM) =="
"$WARD" call "$TOKEN" --abi $SOL/Token.abi --method approve \
  --json-args "[\"0x${ESCROW:26}\", 300]" --data-dir "$DIR"
"$WARD" call "$ESCROW" --abi $SOL/Escrow.abi --method open \
  --json-args "[\"$SELLER\", 300]" --gas 30000000 --data-dir "$DIR"
echo "== the escrow's holding, read through STATICCALL, then the release to the seller =="
"$WARD" query "$ESCROW" --abi $SOL/Escrow.abi --method held --data-dir "$DIR"
"$WARD" call "$ESCROW" --abi $SOL/Escrow.abi --method release --json-args '[0]' --gas 30000000 --data-dir "$DIR"
echo "== a second release reverts with Solidity's message (exit code 1 expected) =="
"$WARD" call "$ESCROW" --abi $SOL/Escrow.abi --method release --json-args '[0]' \
  --data-dir "$DIR" || test $? -eq 1
echo "== a new process, on wasmi: the seller's and alice's balances =="
"$WARD" query "$TOKEN" --abi $SOL/Token.abi --method balanceOf --json-args "[\"$SELLER\"]" \
  --data-dir "$DIR" --backend wasmi
"$WARD" query "$TOKEN" --abi $SOL/Token.abi --method balanceOf --json-args "[\"$ALICE\"]" \
  --data-dir "$DIR" --backend wasmi
