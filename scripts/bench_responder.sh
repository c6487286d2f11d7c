#!/usr/bin/env bash
# SYN-ACKs per second under `hping3 --flood -S`: our stateless responder vs the Linux kernel's
# listening socket (nc -l), in the same run on the same test network (cli -- rtr -- srv), ROUNDS
# times, alternating which goes first. Both sides are counted the same way and at the same place:
# iptables counter rules on rtr count the SYNs forwarded to srv (the flood each side actually got)
# and the SYN-ACKs forwarded back from srv (the answers that reached the wire toward the flooder).
# Usage: scripts/bench_responder.sh [SECONDS] [ROUNDS]   (root; builds the tool (Release) if needed)
# RESPOND_ARGS adds options to `tcpexposure respond` (e.g. RESPOND_ARGS="--rx mmsg --tx raw").
#
# On veth the kernel answers a SYN in the softirq of the CPU that sent it, i.e. inside hping3's
# time slice: the kernel's rate is then what one core does flooding and answering together, and
# its flood is slower than the one our responder gets (the "SYNs/s it got" column). STEER=1
# gives srv's receive path a core of its own for both sides: hping3 pinned to CPU 1, srv's
# packets steered (RPS) to CPU 0, where the kernel then answers and our ring is filled.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-5}"
ROUNDS="${2:-3}"
NAME="bch$$"
. scripts/lib/bench.sh
bench_init bench_responder.sh
T() { "${TOOL[@]}" "$@"; }
command -v hping3 >/dev/null || { echo "bench_responder: needs hping3 (scripts/setup.sh installs it)" >&2; exit 1; }

RESP_PID=""; NC_PID=""
cleanup() {
  [ -n "$RESP_PID" ] && kill "$RESP_PID" 2>/dev/null && wait "$RESP_PID" 2>/dev/null || true
  [ -n "$NC_PID" ] && kill "$NC_PID" 2>/dev/null || true
  T testbed --name "$NAME" down >/dev/null 2>&1 || true
  rm -f "/tmp/$NAME.respond.log"
}
trap cleanup EXIT INT TERM
T testbed --name "$NAME" up >/dev/null
SRV=10.77.1.2
RTR="$NAME-rtr"
for port in 8080 8081; do
  ip netns exec "$RTR" iptables -w -I FORWARD -p tcp -d "$SRV" --dport "$port" --tcp-flags SYN,ACK SYN -m comment --comment "$NAME:syn:$port"
  ip netns exec "$RTR" iptables -w -I FORWARD -p tcp -s "$SRV" --sport "$port" --tcp-flags SYN,ACK SYN,ACK -m comment --comment "$NAME:synack:$port"
done
count() { ip netns exec "$RTR" iptables -w -L FORWARD -v -n -x | awk -v c="$NAME:$1:$2 " '$0 ~ c {print $1}'; }
PIN=()
if [ "${STEER:-0}" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "bench_responder: STEER=1 needs two CPUs" >&2; exit 1; }
  ip netns exec "$NAME-srv" sh -c 'echo 1 > /sys/class/net/eth0/queues/rx-0/rps_cpus'
  PIN=(taskset -c 1)
fi
flood() { ip netns exec "$NAME-cli" timeout "$SECS" "${PIN[@]}" hping3 --flood -S -q -p "$1" "$SRV" >/dev/null 2>&1 || true; }

# The kernel: a listening socket on 8081 for the whole run (SYN cookies take over when the
# backlog fills, as they would in production).
ip netns exec "$NAME-srv" nc -l -k "$SRV" 8081 >/dev/null 2>&1 &
NC_PID=$!

# Ours: a responder on 8080 for one flood; SIGTERM makes it print its counters.
ours() {
  : >"/tmp/$NAME.respond.log"
  # shellcheck disable=SC2086
  "${TOOL[@]}" respond --port 8080 --addr "$SRV" --netns "$NAME-srv" ${RESPOND_ARGS:-} >"/tmp/$NAME.respond.log" 2>&1 &
  RESP_PID=$!
  for _ in $(seq 100); do grep -q answering "/tmp/$NAME.respond.log" 2>/dev/null && break; sleep 0.1; done
  flood 8080
  kill -TERM "$RESP_PID" 2>/dev/null || true
  wait "$RESP_PID" 2>/dev/null || true; RESP_PID=""
  COUNTERS=$(grep '^respond: received' "/tmp/$NAME.respond.log" || true)
}
kernel() { sleep 0.3; flood 8081; }

RATIOS=()
echo "round  responder SYN-ACK/s (SYNs/s it got)  kernel SYN-ACK/s (SYNs/s it got)  ratio  load"
for r in $(seq "$ROUNDS"); do
  ip netns exec "$RTR" iptables -w -Z FORWARD
  if [ $((r % 2)) = 1 ]; then ours; kernel; else kernel; ours; fi
  OS=$(count synack 8080); OQ=$(count syn 8080); KS=$(count synack 8081); KQ=$(count syn 8081)
  LINE=$(awk -v os="$OS" -v oq="$OQ" -v ks="$KS" -v kq="$KQ" -v s="$SECS" -v r="$r" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    printf "%5d  %19.0f (%7.0f)  %16.0f (%7.0f)  %5.2f  %s", r, os/s, oq/s, ks/s, kq/s, (ks > 0 ? os/ks : 0), l }')
  echo "$LINE"
  echo "       ${COUNTERS:-respond: no counters}"
  RATIOS+=("$(echo "$LINE" | awk '{print $(NF-1)}')")
done
printf '%s\n' "${RATIOS[@]}" | sort -g | awk '{a[NR]=$1} END {
  m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
  printf "ratio responder/kernel: median %.2f, range %.2f-%.2f over %d rounds\n", m, a[1], a[NR], NR }'
