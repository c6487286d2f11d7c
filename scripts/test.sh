#!/usr/bin/env bash
# Every test: installs what is missing, builds, runs the NUnit projects and the Python tests,
# and ends with one line "N passed, N failed, N skipped" summing them all.
set -uo pipefail
cd "$(dirname "$0")/.."
export CONFIG="${CONFIG:-Release}"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

results=artifacts/test-results
rm -rf "$results" && mkdir -p "$results"

# NUnit: one process per test assembly; namespaces and iptables rules use unique names, so they may overlap.
dotnet test TcpExposure.Net.sln -c "$CONFIG" --no-build -nologo \
  --logger "trx" --results-directory "$results" -- NUnit.NumberOfTestWorkers=1 2>&1 \
  | grep -v -E '^\s*$' | grep -E -v 'Results File|^A total of|^Test run for' || true

# Python: the legacy and modern modules over the C# library.
if [ -d tests/python ]; then
  /usr/bin/python3 tests/python/run_tests.py --json "$results/python.json" || true
fi

/usr/bin/python3 scripts/count_results.py "$results"
