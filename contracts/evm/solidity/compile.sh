#!/usr/bin/env bash
# Regenerates the committed artifacts of these Solidity sources (NAME.bin,
# the creation code as hex, and NAME.abi) with solc 0.8.28 from npm:
#
#   contracts/evm/solidity/compile.sh
#
# The artifacts are committed so that building and testing Ward needs no
# Solidity compiler; run this after changing a source.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent solc@0.8.28 >/dev/null)
"$work/node_modules/.bin/solcjs" --bin --abi --optimize --optimize-runs 200 \
    --base-path "$here" -o "$work/out" "$here"/*.sol
# FILE_sol_CONTRACT.bin -> CONTRACT.bin (interfaces have no code: skipped).
for bin in "$work"/out/*.bin; do
    [ -s "$bin" ] || continue
    name="${bin##*_sol_}"
    name="${name%.bin}"
    cp "$bin" "$here/$name.bin"
    cp "${bin%.bin}.abi" "$here/$name.abi"
    echo "compiled: $name"
done
