# A Ward dev node for the scripts that run Ethereum tools against one
# (eth-clients.sh, openzeppelin.sh): sourced, with WARD (the binary) set.
#
#   dev_node_start DIR CHAIN_ID TX_GAS [SERVE_FLAG...]
#
# starts a fresh `ward serve --dev` on a free loopback port, its data in
# DIR, on a genesis like a public chain's: Ethereum chain id 31337, a base
# fee of 1 gwei per EVM gas (a least gas price of 15 625 000 wei per Ward
# gas, 64 of which make an EVM gas; a dev chain's own is 0), so that fees
# are paid and every balance check counts them, and the test mnemonic's
# first ten accounts (DEV_ACCOUNTS, a dev node's eth_accounts) with 10 000
# ETH each. TX_GAS, when not empty, is the chain's max_tx_gas and
# max_block_gas (Ward gas). It sets
# PID, WARD_RPC and WARD_WS; dev_node_stop (run on exit too) stops it.
# dev_node_serve (below) starts one on the dev chain's own defaults.

DEV_ACCOUNTS=(
  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x90F79bf6EB2c4f870365E785982E1f101E93b906
  0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc
  0x976EA74026E726554dB657fA54763abd0C3a0aa9 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
  0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720
)

PID=
dev_node_stop() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
trap dev_node_stop EXIT

dev_node_start() {
  local dir=$1 chain=$2 gas=$3
  shift 3
  rm -rf "$dir" && mkdir -p "$dir"
  local funds=() address
  for address in "${DEV_ACCOUNTS[@]}"; do
    funds+=(--fund "0x000000000000000000000000${address#0x}=10000000000000000000000")
  done
  "$WARD" genesis "$dir/genesis.json" --chain-id "$chain" --eth-chain-id 31337 \
    --min-gas-price 15625000 "${funds[@]}" >/dev/null
  if [ -n "$gas" ]; then
    node -e '
      const fs = require("fs"), [file, gas] = process.argv.slice(1);
      const genesis = JSON.parse(fs.readFileSync(file));
      genesis.limits = { ...genesis.limits, max_tx_gas: Number(gas), max_block_gas: Number(gas) };
      fs.writeFileSync(file, JSON.stringify(genesis, null, 2));' "$dir/genesis.json" "$gas"
  fi
  dev_node_serve "$dir" --genesis "$dir/genesis.json" "$@"
}

# dev_node_serve DIR [SERVE_FLAG...]: `ward serve --dev` with its data in
# DIR/data on a free loopback port, once it listens (its output in
# DIR/serve.out and DIR/serve.log). Sets PID, WARD_RPC and WARD_WS.
dev_node_serve() {
  local dir=$1
  shift
  # Made here, not by the background job's redirection: the loop below
  # may read it before that job has opened it.
  : >"$dir/serve.out"
  "$WARD" serve --dev "$@" --data-dir "$dir/data" --listen 127.0.0.1:0 \
    >"$dir/serve.out" 2>"$dir/serve.log" &
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
