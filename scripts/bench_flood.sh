#!/usr/bin/env bash
# Flood benchmark: `tcpexposure send --count` against `hping3 --flood -S`, one after the other in
# the same run, on the same fresh test network (cli -- rtr -- srv). Both send SYNs with varying
# source ports from cli to a closed port on srv; the rate is what the router forwarded, counted
# by an iptables rule on it, over DURATION seconds after one second of warm-up.
# Usage: scripts/bench_flood.sh [DURATION]   (root; prints both rates and ours/hping3)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
NAME="txfl$$"
. scripts/lib/bench.sh
bench_init bench_flood.sh

GEN_PID=""
cleanup() {
  [ -n "$GEN_PID" ] && kill -TERM "$GEN_PID" 2>/dev/null && wait "$GEN_PID" 2>/dev/null || true
  "${TOOL[@]}" testbed --name "$NAME" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${TOOL[@]}" testbed --name "$NAME" up >/dev/null
SRV=$(ip -n "$NAME-srv" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
ip netns exec "$NAME-rtr" iptables -I FORWARD -p tcp --dport 9 --tcp-flags SYN SYN -m comment --comment txbench -j ACCEPT

forwarded() { ip netns exec "$NAME-rtr" iptables -nvx -L FORWARD | awk '/txbench/ {print $1; exit}'; }

# Runs a generator in the background; prints the packets/s the router forwarded in steady state.
measure() {
  "$@" >/dev/null 2>&1 &
  GEN_PID=$!
  sleep 1
  local a b
  a=$(forwarded)
  sleep "$DURATION"
  b=$(forwarded)
  # TERM, not INT: a background job of a script starts with SIGINT ignored.
  kill -TERM "$GEN_PID" 2>/dev/null || true
  wait "$GEN_PID" 2>/dev/null || true
  GEN_PID=""
  echo $(( (b - a) / DURATION ))
}

# Alternating rounds, best of each: the machine is shared, and one round can lose the CPU.
ROUNDS="${ROUNDS:-2}"
ours=0; hping=0
for round in $(seq "$ROUNDS"); do
  o=$(measure "${TOOL[@]}" send --netns "$NAME-cli" --dst "$SRV:9" --segment "S 0:0(0) win 512" --count 1000000000 --no-rst-guard)
  h=$(measure ip netns exec "$NAME-cli" hping3 --flood -S -p 9 "$SRV")
  echo "round $round: tcpexposure $o packets/s, hping3 $h packets/s" >&2
  [ "$o" -gt "$ours" ] && ours=$o
  [ "$h" -gt "$hping" ] && hping=$h
done
echo "tcpexposure send --count: $ours packets/s (best of $ROUNDS)"
echo "hping3 --flood -S:        $hping packets/s (best of $ROUNDS)"
awk -v a="$ours" -v b="$hping" 'BEGIN { if (b > 0) printf "ratio (ours / hping3):    %.2f\n", a / b; else print "ratio: hping3 sent nothing" }'
