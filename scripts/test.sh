#!/usr/bin/env bash
# Every test: installs what is missing, builds, runs the NUnit projects and the Python tests,
# and ends with one line "N passed, N failed, N skipped" summing them all.
# SKIP_SLOW=1 leaves out the NUnit tests in category "slow" (the serve fetches at 10% and 20% loss).
set -uo pipefail
cd "$(dirname "$0")/.."
export CONFIG="${CONFIG:-Release}"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

filter=()
[ "${SKIP_SLOW:-0}" = 1 ] && filter=(--filter "TestCategory!=slow")

results=artifacts/test-results
rm -rf "$results" && mkdir -p "$results"

# NUnit: one process per test assembly; namespaces and iptables rules use unique names, so they may overlap.
dotnet test TcpExposure.Net.sln -c "$CONFIG" --no-build -nologo "${filter[@]}" \
  --logger "trx" --results-directory "$results" -- NUnit.NumberOfTestWorkers=1 2>&1 \
  | grep -v -E '^\s*$' | grep -E -v 'Results File|^A total of|^Test run for' || true

# Python: the legacy and modern modules over the C# library.
if [ -d tests/python ]; then
  /usr/bin/python3 tests/python/run_tests.py --json "$results/python.json" || true
fi

/usr/bin/python3 scripts/count_results.py "$results"
