#!/usr/bin/env bash
# SYN-ACKs per second under `hping3 --flood -S`: our stateless responder vs the Linux kernel's
# listening socket (nc -l), one after the other in the same run on the same test network
# (cli -- rtr -- srv). SYN-ACKs are counted by iptables counter rules on rtr, so both sides are
# measured at the same place, after they left srv.
# Usage: scripts/bench_responder.sh [SECONDS]   (root; builds the tool if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-5}"
NAME="bch$$"
TOOL=src/TcpExposure.Tool/bin/Debug/net10.0/tcpexposure.dll
[ -f "$TOOL" ] || dotnet build src/TcpExposure.Tool -v q >/dev/null
T() { dotnet "$TOOL" "$@"; }
command -v hping3 >/dev/null || { echo "bench_responder: needs hping3 (scripts/setup.sh installs it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench_responder: run as root (network namespaces, raw sockets, iptables)" >&2; exit 1; }

RESP_PID=""; NC_PID=""
cleanup() {
  [ -n "$RESP_PID" ] && kill "$RESP_PID" 2>/dev/null && wait "$RESP_PID" 2>/dev/null || true
  [ -n "$NC_PID" ] && kill "$NC_PID" 2>/dev/null || true
  T testbed --name "$NAME" down >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
T testbed --name "$NAME" up >/dev/null
SRV=10.77.1.2
RTR="$NAME-rtr"
for port in 8080 8081; do
  ip netns exec "$RTR" iptables -w -I FORWARD -p tcp -s "$SRV" --sport "$port" --tcp-flags SYN,ACK SYN,ACK -m comment --comment "$NAME:$port"
done
count() { ip netns exec "$RTR" iptables -w -L FORWARD -v -n -x | awk -v c="$NAME:$1" '$0 ~ c {print $1}'; }
flood() { ip netns exec "$NAME-cli" timeout "$SECS" hping3 --flood -S -q -p "$1" "$SRV" >/dev/null 2>&1 || true; }

# Ours: the responder on 8080.
dotnet "$TOOL" respond --port 8080 --addr "$SRV" --netns "$NAME-srv" --duration $((SECS + 3)) >/tmp/$NAME.respond.log 2>&1 &
RESP_PID=$!
for _ in $(seq 50); do grep -q answering /tmp/$NAME.respond.log 2>/dev/null && break; sleep 0.1; done
flood 8080
wait "$RESP_PID" 2>/dev/null || true; RESP_PID=""
OURS=$(count 8080)

# The kernel: a listening socket on 8081 (SYN cookies take over when the backlog fills, as they would in production).
ip netns exec "$NAME-srv" nc -l -k "$SRV" 8081 >/dev/null 2>&1 &
NC_PID=$!
sleep 0.3
flood 8081
KERNEL=$(count 8081)

awk -v o="$OURS" -v k="$KERNEL" -v s="$SECS" 'BEGIN {
  printf "responder SYN-ACK/s: %.0f\nkernel    SYN-ACK/s: %.0f\nratio responder/kernel: %.2f\n", o/s, k/s, (k > 0 ? o/k : 0) }'
tail -1 /tmp/$NAME.respond.log | sed 's/^/  /'
rm -f /tmp/$NAME.respond.log
