#!/usr/bin/env bash
# Benchmark of the middlebox emulator (tcpexposure middlebox) on the test network (cli -- rtr --
# srv, MTU 1500): SIZE_MB of kernel TCP (nc cli -> nc -l srv) through
#   1. the kernel's own forwarding on rtr,
#   2. the emulator with `none` (segments go on as raw bytes, TTL decremented: no parse),
#   3. the emulator with `seq-offset:1000` (every segment parsed, rewritten and re-encoded),
# ROUNDS rounds in turn, then the median MB/s of each and the emulator's share of the kernel's.
# Root. Everything it creates (namespaces, iptables rules, files) goes on exit and on signals.
# Usage: scripts/bench_middlebox.sh   (env: SIZE_MB=50 ROUNDS=3 CONFIG=Release)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-50}"
ROUNDS="${ROUNDS:-3}"
PORT=8080
NAME="txbm$$"
TMP="$(mktemp -d /tmp/txbenchmb.XXXXXX)"
MB_PID=""

. scripts/lib/bench.sh
bench_init bench_middlebox.sh

stop_middlebox() { bench_stop "$MB_PID"; MB_PID=""; }
cleanup() {
  stop_middlebox
  "${TOOL[@]}" testbed down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${TOOL[@]}" testbed up --name "$NAME" --mtu 1500 -q >/dev/null
CLI="$NAME-cli"; SRV="$NAME-srv"; RTR="$NAME-rtr"; SRV_ADDR=10.77.1.2
head -c "$((SIZE_MB << 20))" /dev/urandom >"$TMP/data.bin"

# transfer -> MB/s of SIZE_MB from nc in cli to nc -l in srv (timed until the listener has it all).
transfer() {
  ip netns exec "$SRV" sh -c "nc -l $PORT >'$TMP/got.bin'" &
  local pid=$! t0 t1
  for _ in $(seq 1 100); do ip netns exec "$SRV" ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done
  t0=$(date +%s.%N)
  timeout 300 ip netns exec "$CLI" nc -N "$SRV_ADDR" "$PORT" <"$TMP/data.bin"
  wait "$pid"
  t1=$(date +%s.%N)
  if ! cmp -s "$TMP/data.bin" "$TMP/got.bin"; then echo "bench_middlebox.sh: the data arrived changed" >&2; exit 1; fi
  awk -v a="$t0" -v b="$t1" -v m="$SIZE_MB" 'BEGIN { printf "%.1f\n", m / (b - a) }'
}

# through BEHAVIOUR -> MB/s with the emulator running BEHAVIOUR on rtr.
through() {
  "${TOOL[@]}" middlebox --netns "$RTR" --behaviour "$1" >"$TMP/mb.out" 2>"$TMP/mb.err" &
  MB_PID=$!
  for _ in $(seq 1 300); do grep -q between "$TMP/mb.out" 2>/dev/null && break; sleep 0.1; done
  grep -q between "$TMP/mb.out" || { echo "bench_middlebox.sh: the middlebox did not start: $(cat "$TMP/mb.err")" >&2; exit 1; }
  transfer
  stop_middlebox
}

: >"$TMP/k"; : >"$TMP/n"; : >"$TMP/s"
for round in $(seq 1 "$ROUNDS"); do
  k=$(transfer); echo "$k" >>"$TMP/k"
  n=$(through none); echo "$n" >>"$TMP/n"
  s=$(through seq-offset:1000); echo "$s" >>"$TMP/s"
  echo "round $round: kernel forwarding $k MB/s, emulator none $n MB/s, emulator seq-offset $s MB/s (${SIZE_MB} MB; load $(cut -d' ' -f1 /proc/loadavg))"
done
k=$(median <"$TMP/k"); n=$(median <"$TMP/n"); s=$(median <"$TMP/s")
echo "median of $ROUNDS: kernel forwarding $k MB/s, emulator none $n MB/s ($(awk -v a="$n" -v b="$k" 'BEGIN { printf "%.2f", a / b }')x), seq-offset $s MB/s ($(awk -v a="$s" -v b="$k" 'BEGIN { printf "%.2f", a / b }')x)"
