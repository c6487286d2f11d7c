#!/usr/bin/env bash
# Benchmark of the user-space TCP server (tcpexposure serve) against the kernel, on the test
# network (cli -- rtr -- srv namespaces, MTU 1500):
#   1. lossless: SIZE_MB from serve in srv to a kernel nc in cli; prints Gbit/s (target >= 1);
#   2. LOSS% random loss each way on the router: LOSS_SIZE_MB from serve, then the same file
#      kernel-to-kernel (nc -l in srv -> nc in cli) on the same path, in the same run, LOSS_ROUNDS
#      times; prints both completion times and their ratio per round, then the medians (target:
#      ratio <= 2). A lost SYN or SYN-ACK costs either side a 1 s initial RTO (RFC 6298, Linux
#      alike), which is why single rounds vary and the median is the figure.
# ROUNDS lossless rounds alternate serve and kernel and end with the medians; COMPARE=1 adds serve
# --no-offload (one packet and one checksum per segment, batched sendmmsg) to every round; LOSS=0
# skips part 2; SERVE_ARGS are passed to serve.
# Root. Everything it creates (namespaces, iptables rules, files) goes on exit and on signals.
# Usage: scripts/bench_serve.sh   (env: SIZE_MB=100 ROUNDS=3 COMPARE=0 LOSS_SIZE_MB=100 LOSS=5 LOSS_ROUNDS=5 VIA=raw MIN_RTO=200 SERVE_ARGS= CONFIG=Release)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-100}"
LOSS_SIZE_MB="${LOSS_SIZE_MB:-100}"
LOSS="${LOSS:-5}"
LOSS_ROUNDS="${LOSS_ROUNDS:-5}"
VIA="${VIA:-raw}"
MIN_RTO="${MIN_RTO:-200}"   # serve --min-rto in ms
ROUNDS="${ROUNDS:-3}"
COMPARE="${COMPARE:-0}"
read -r -a EXTRA <<<"${SERVE_ARGS:-}"
PORT=8080
NAME="txbn$$"
TMP="$(mktemp -d /tmp/txbench.XXXXXX)"
SERVE_PID=""

. scripts/lib/bench.sh
bench_init bench_serve.sh

cleanup() {
  bench_stop "$SERVE_PID"
  "${TOOL[@]}" testbed down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${TOOL[@]}" testbed up --name "$NAME" --mtu 1500 >/dev/null
CLI="$NAME-cli"; SRV="$NAME-srv"; RTR="$NAME-rtr"; SRV_ADDR=10.77.1.2
PEER_ARGS=(); [ "$VIA" = pcap ] && PEER_ARGS=(--peer 10.77.0.1)

now() { date +%s.%N; }

# serve_fetch FILE [ARGS...] -> prints "seconds" after a kernel nc in cli fetched FILE from serve in srv and the md5 matched.
serve_fetch() {
  local file="$1" out="$TMP/serve.out" t0 t1 got want
  shift
  ip netns exec "$SRV" "${TOOL[@]}" serve --port "$PORT" --file "$file" --via "$VIA" --min-rto "$MIN_RTO" "${PEER_ARGS[@]}" "${EXTRA[@]}" "$@" --count 1 -v >"$out" 2>"$TMP/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 1 300); do grep -q serving "$out" 2>/dev/null && break; sleep 0.1; done
  t0=$(now)
  got=$(timeout 900 ip netns exec "$CLI" nc "$SRV_ADDR" "$PORT" </dev/null | md5sum | cut -d' ' -f1)
  t1=$(now)
  wait "$SERVE_PID" || true; SERVE_PID=""
  want=$(md5sum <"$file" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then echo "bench_serve.sh: md5 mismatch ($got != $want); serve said: $(cat "$TMP/serve.err")" >&2; exit 1; fi
  echo "# serve: $(tail -n1 "$out")" >&2
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# kernel_fetch FILE -> seconds for nc -l in srv -> nc in cli. The client must not half-close
# (no -N): the kernel nc listener stops sending once it reads the client's FIN.
kernel_fetch() {
  local file="$1" t0 t1 got want
  ip netns exec "$SRV" sh -c "nc -N -l $((PORT + 1)) <'$file'" &
  local pid=$!
  for _ in $(seq 1 100); do ip netns exec "$SRV" ss -Hltn "sport = :$((PORT + 1))" | grep -q . && break; sleep 0.05; done
  t0=$(now)
  got=$(timeout 900 ip netns exec "$CLI" nc "$SRV_ADDR" $((PORT + 1)) </dev/null | md5sum | cut -d' ' -f1)
  t1=$(now)
  wait "$pid" || true
  want=$(md5sum <"$file" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then echo "bench_serve.sh: kernel transfer md5 mismatch" >&2; exit 1; fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

head -c "$((SIZE_MB << 20))" /dev/urandom >"$TMP/big.bin"
head -c "$((LOSS_SIZE_MB << 20))" /dev/urandom >"$TMP/loss.bin"

gbit() { awk -v s="$1" -v b="$((SIZE_MB << 20))" 'BEGIN { printf "%.2f", b * 8 / s / 1e9 }'; }
: >"$TMP/serve.g"; : >"$TMP/plain.g"; : >"$TMP/kernel.g"
for round in $(seq 1 "$ROUNDS"); do
  g=$(gbit "$(serve_fetch "$TMP/big.bin")"); echo "$g" >>"$TMP/serve.g"
  line="round $round: serve ($VIA) $g"
  if [ "$COMPARE" = 1 ]; then
    g=$(gbit "$(serve_fetch "$TMP/big.bin" --no-offload)"); echo "$g" >>"$TMP/plain.g"
    line="$line, serve --no-offload $g"
  fi
  g=$(gbit "$(kernel_fetch "$TMP/big.bin")"); echo "$g" >>"$TMP/kernel.g"
  echo "$line, kernel $g Gbit/s (${SIZE_MB} MB lossless; load $(cut -d' ' -f1 /proc/loadavg))"
done
summary="lossless: ${SIZE_MB} MB, median of $ROUNDS: serve ($VIA) $(median <"$TMP/serve.g") Gbit/s ($(range <"$TMP/serve.g"))"
[ "$COMPARE" = 1 ] && summary="$summary, serve --no-offload $(median <"$TMP/plain.g") ($(range <"$TMP/plain.g"))"
echo "$summary, kernel to kernel $(median <"$TMP/kernel.g") ($(range <"$TMP/kernel.g")) (target: serve >= 1)"
[ "$LOSS" = 0 ] && exit 0

p=$(awk -v l="$LOSS" 'BEGIN { printf "%.4f", l / 100 }')
for dev in eth0 eth1; do
  ip netns exec "$RTR" iptables -A FORWARD -i "$dev" -m statistic --mode random --probability "$p" -j DROP
done
: >"$TMP/ours.s"; : >"$TMP/kern.s"; : >"$TMP/ratio"
for round in $(seq 1 "$LOSS_ROUNDS"); do
  ours=$(serve_fetch "$TMP/loss.bin")
  kern=$(kernel_fetch "$TMP/loss.bin")
  ratio=$(awk -v a="$ours" -v b="$kern" 'BEGIN { printf "%.2f", a / b }')
  echo "$ours" >>"$TMP/ours.s"; echo "$kern" >>"$TMP/kern.s"; echo "$ratio" >>"$TMP/ratio"
  echo "loss ${LOSS}% each way, round $round: ${LOSS_SIZE_MB} MB serve ($VIA) ${ours} s, kernel-to-kernel ${kern} s, ratio ${ratio} (load $(cut -d' ' -f1 /proc/loadavg))"
done
over=$(awk '$1 > 2 { n++ } END { print n + 0 }' "$TMP/ratio")
echo "loss ${LOSS}% each way: ${LOSS_SIZE_MB} MB, median of $LOSS_ROUNDS: serve ($VIA) $(median <"$TMP/ours.s") s ($(range <"$TMP/ours.s")), kernel-to-kernel $(median <"$TMP/kern.s") s ($(range <"$TMP/kern.s")), ratio $(median <"$TMP/ratio") ($(range <"$TMP/ratio"); $over of $LOSS_ROUNDS over 2) (target <= 2)"
