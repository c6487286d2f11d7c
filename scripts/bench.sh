#!/usr/bin/env bash
# Codec benchmarks (BenchmarkDotNet, a short job: about a minute a round), then the same segment
# built and parsed by Debian's scapy, with the ratio. The README's Performance section quotes this
# script's output.
#
#   scripts/bench.sh [--cpu N] [--rounds R] [--quick] [BenchmarkDotNet args...]
#
# --cpu N     pin the benchmark processes (and scapy) to CPU N with taskset. Helps on an idle
#             machine (no migration mid-iteration); on a loaded one it hurts, since the benchmark can
#             no longer move off a core another process is using (and the JIT's and GC's threads
#             share its core): measured here at load 6, medians rose 2-10x. Off by default.
# --rounds R  run BenchmarkDotNet R times (R launches) and report the median of the rounds' medians
#             and of their means, and the lowest minimum, not one launch's mean.
# --quick     the fast best-of-batches timer instead (tests/TcpExposure.Benchmarks/QuickTimer.cs).
set -euo pipefail
cd "$(dirname "$0")/.."
project=tests/TcpExposure.Benchmarks
cpu="" rounds=1 quick=0 extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu) cpu=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) extra+=("$1"); shift ;;
  esac
done
pin=()
[[ -n $cpu ]] && pin=(taskset -c "$cpu")
dotnet build "$project" -c Release -nologo -v q >/dev/null
dll="$project/bin/Release/net10.0/TcpExposure.Benchmarks.dll"
# Shared machines skew every figure: say how loaded this one was, before and after.
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(load)${cpu:+, pinned to CPU $cpu}"
if [[ $quick == 1 ]]; then
  "${pin[@]}" dotnet "$dll" --quick "${extra[@]}"
  exit 0
fi
results=BenchmarkDotNet.Artifacts/results
csvs=()
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$results"
  # One launch, 3 warm-up and 10 measured iterations of 250 ms each per benchmark.
  "${pin[@]}" dotnet "$dll" --filter '*CodecBenchmarks*' --launchCount 1 --warmupCount 3 --iterationCount 10 --iterationTime 250 \
    --exporters csv github "${extra[@]}" | sed -n '/^|/p'
  mkdir -p BenchmarkDotNet.Artifacts/rounds
  cp "$results/TcpExposure.Benchmarks.CodecBenchmarks-report.csv" "BenchmarkDotNet.Artifacts/rounds/round$r.csv"
  csvs+=("BenchmarkDotNet.Artifacts/rounds/round$r.csv")
done
echo "load average at the end of the BenchmarkDotNet rounds: $(load)"
"${pin[@]}" /usr/bin/python3 scripts/bench_scapy.py --csv "${csvs[@]}" --hex "$(dotnet "$dll" --hex)"
