#!/usr/bin/env bash
# Codec benchmarks (BenchmarkDotNet, a short job: the whole run takes about a minute), then the
# same segment built and parsed by Debian's scapy, with the ratio. The README's Performance
# section quotes this script's output.
set -euo pipefail
cd "$(dirname "$0")/.."
project=tests/TcpExposure.Benchmarks
dotnet build "$project" -c Release -nologo -v q >/dev/null
dll="$project/bin/Release/net10.0/TcpExposure.Benchmarks.dll"
rm -rf BenchmarkDotNet.Artifacts/results
# Shared machines skew every figure: say how loaded this one was.
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# One launch, 3 warm-up and 10 measured iterations of 250 ms each per benchmark.
dotnet "$dll" --filter '*CodecBenchmarks*' --launchCount 1 --warmupCount 3 --iterationCount 10 --iterationTime 250 \
  --exporters csv github "$@" | sed -n '/^|/p'
/usr/bin/python3 scripts/bench_scapy.py \
  --csv BenchmarkDotNet.Artifacts/results/TcpExposure.Benchmarks.CodecBenchmarks-report.csv \
  --hex "$(dotnet "$dll" --hex)"
