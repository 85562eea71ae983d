#!/usr/bin/env bash
# `make cluster-demo`: a three-member etcd cluster and three Ward replicas
# on loopback (r2 on wasmi), transactions through every replica, equal
# state roots, then etcd's leader and one replica SIGKILLed: the cluster
# goes on and the replica catches up when restarted; then a fourth replica
# joins by state sync from the others' snapshots while the log stays
# bounded (docs/replication.md, "Snapshots and state sync"). Everything it started
# is stopped at the end, or on any failure (docs/replication.md).
# Usage: scripts/cluster-demo.sh WARD DIR
set -euo pipefail
WARD=$1 DIR=$2
ETCD=/usr/bin/etcd
[ -x "$ETCD" ] || { echo "cluster-demo: $ETCD is missing (Debian's etcd-server; make cluster installs it as root)"; exit 1; }
command -v curl >/dev/null || { echo "cluster-demo: curl is missing"; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT

# A loopback port nothing listens on.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# etcd: three members.
PEER=() CLIENT=()
for i in 0 1 2; do PEER[$i]=$(free_port); CLIENT[$i]=$(free_port); done
INITIAL="e0=http://127.0.0.1:${PEER[0]},e1=http://127.0.0.1:${PEER[1]},e2=http://127.0.0.1:${PEER[2]}"
ETCD_PID=()
for i in 0 1 2; do
  "$ETCD" --name "e$i" --data-dir "$DIR/e$i" \
    --listen-peer-urls "http://127.0.0.1:${PEER[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${PEER[$i]}" \
    --listen-client-urls "http://127.0.0.1:${CLIENT[$i]}" --advertise-client-urls "http://127.0.0.1:${CLIENT[$i]}" \
    --initial-cluster "$INITIAL" --initial-cluster-state new >/dev/null 2>"$DIR/etcd$i.log" &
  ETCD_PID[$i]=$!
  PIDS+=("$!")
done
ENDPOINTS="127.0.0.1:${CLIENT[0]},127.0.0.1:${CLIENT[1]},127.0.0.1:${CLIENT[2]}"

# The member etcd elected (its index), from each member's JSON gateway.
etcd_leader() {
  local i status id leader=""
  declare -A ids
  for i in 0 1 2; do
    status=$(curl -s -m 2 -X POST "http://127.0.0.1:${CLIENT[$i]}/v3/maintenance/status" -d '{}' || true)
    id=$(sed -n 's/.*"member_id":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$status")
    [ -n "$id" ] && ids[$id]=$i
    l=$(sed -n 's/.*"leader":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$status")
    [ -n "$l" ] && [ "$l" != 0 ] && leader=$l
  done
  [ -n "$leader" ] && [ -n "${ids[$leader]:-}" ] && echo "${ids[$leader]}"
}
for _ in $(seq 1 300); do etcd_leader >/dev/null && break; sleep 0.1; done
echo "== etcd: three members at $ENDPOINTS; member e$(etcd_leader) leads =="

# Ward: three replicas.
BACKEND=(wasmtime wasmtime wasmi wasmtime)
URL=() WARD_PID=()
# Snapshots every 4 blocks; the log keeps 4 blocks below the newest one
# two replicas hold.
start_replica() {
  local i=$1
  shift
  # Made here, not by the background job's redirection: the loop below
  # may read it before that job has opened it (and a failed sed ends
  # this script, under set -e).
  : >"$DIR/r$i.out"
  "$WARD" serve --dev --etcd "$ENDPOINTS" --replica-id "r$i" --backend "${BACKEND[$i]}" \
    --snapshot-interval 4 --log-retention-blocks 4 "$@" \
    --data-dir "$DIR/r$i" --listen 127.0.0.1:0 >"$DIR/r$i.out" 2>>"$DIR/r$i.log" &
  WARD_PID[$i]=$!
  PIDS+=("$!")
  URL[$i]=
  for _ in $(seq 1 600); do
    URL[$i]=$(sed -n 's/^listening on //p' "$DIR/r$i.out")
    [ -n "${URL[$i]}" ] && break
    kill -0 "${WARD_PID[$i]}" 2>/dev/null || { cat "$DIR/r$i.log"; exit 1; }
    sleep 0.1
  done
  [ -n "${URL[$i]}" ] || { echo "replica r$i did not start"; cat "$DIR/r$i.log"; exit 1; }
}
for i in 0 1 2; do start_replica "$i"; done
for i in 0 1 2; do echo "replica r$i (${BACKEND[$i]}) at ${URL[$i]}"; done

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | tail -1; }
latest() { curl -s -m 5 "${URL[$1]}/rpc" -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"getLatestBlock"}'; }
height() { latest "$1" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }
# Waits until every replica is at the same height, then prints each one's
# height and state root.
roots() {
  for _ in $(seq 1 300); do
    h0=$(height 0) h1=$(height 1) h2=$(height 2)
    [ -n "$h0" ] && [ "$h0" = "$h1" ] && [ "$h1" = "$h2" ] && break
    sleep 0.1
  done
  for i in 0 1 2; do
    echo "  r$i: height $(height "$i"), state root $(latest "$i" | field state_root)"
  done
}

# Each replica signs for its own dev account (0, 1, 2): a replica assigns
# nonces from what it has applied, so one account per replica never races.
SENDER=()
# (Ward's accounts have 32-byte addresses; the Ethereum dev accounts
# `ward serve --dev` prints after them have 20-byte ones.)
for i in 0 1 2; do
  SENDER[$i]=$(sed -n "s/^($i) \(0x[0-9a-f]\{64\}\) key.*/\1/p" "$DIR/r0.out")
  [ -n "${SENDER[$i]}" ] || { echo "cluster-demo: no dev account ($i) in $DIR/r0.out" >&2; exit 1; }
done
call() { "$WARD" call "$COUNTER" --node "${URL[$1]}" --sender "${SENDER[$1]}" --json | field tx | sed "s/^/  through r$1: tx /"; }

echo "== a counter deployed through r0, then a call through each replica =="
COUNTER=$("$WARD" deploy examples/counter.wat --node "${URL[0]}" --sender "${SENDER[0]}" --json | field address)
echo "counter at $COUNTER"
for i in 0 1 2; do call "$i"; done
echo "== every replica applied the same blocks: =="
roots

LEADER=$(etcd_leader)
echo "== SIGKILL etcd's leader e$LEADER; the next call goes through r1 =="
{ kill -9 "${ETCD_PID[$LEADER]}"; wait "${ETCD_PID[$LEADER]}"; } 2>/dev/null || true
START=$(date +%s%N)
call 1
echo "  committed $(( ($(date +%s%N) - START) / 1000000 )) ms after the kill"

echo "== SIGKILL replica r2; calls go on through r0 and r1 =="
{ kill -9 "${WARD_PID[2]}"; wait "${WARD_PID[2]}"; } 2>/dev/null || true
for i in 0 1; do call "$i"; done
echo "== r2 restarts on its directory and catches up from the log =="
start_replica 2
roots
echo "  r2's health: $(curl -s "${URL[2]}/health")"

# The log's entries in etcd, counted through a member's JSON gateway
# (keys in base64; `log0` follows every `log/` key).
log_entries() {
  local key end
  key=$(printf '/ward/log/' | base64 -w0) end=$(printf '/ward/log0' | base64 -w0)
  for i in 0 1 2; do
    curl -s -m 2 -X POST "http://127.0.0.1:${CLIENT[$i]}/v3/kv/range" \
      -d "{\"key\":\"$key\",\"range_end\":\"$end\",\"count_only\":true}" 2>/dev/null \
      | sed -n 's/.*"count":"\{0,1\}\([0-9]*\).*/\1/p' | grep . && return
  done
  echo "?"
}
echo "== 24 more calls; the proposer compacts the log below the shared snapshot =="
for n in $(seq 1 8); do for i in 0 1; do call "$i" >/dev/null; done; call 2 >/dev/null; done
roots
echo "  the log holds $(log_entries) entries for $(height 0) blocks"
echo "== r3 starts on an empty directory with --state-sync =="
start_replica 3 --state-sync
sed -n 's/.*state sync: restored.*height=\([0-9]*\).* ms=\([0-9]*\).*/  r3 restored the snapshot of block \1 in \2 ms (checked chunk by chunk against the log)/p' "$DIR/r3.log"
for _ in $(seq 1 300); do [ "$(height 3)" = "$(height 0)" ] && break; sleep 0.1; done
for i in 0 3; do
  echo "  r$i: height $(height "$i"), state root $(latest "$i" | field state_root)"
done
[ "$(latest 0 | field state_root)" = "$(latest 3 | field state_root)" ] || { echo "r3 disagrees"; exit 1; }

echo "== stopping everything this demo started =="
