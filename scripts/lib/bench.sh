# shellcheck shell=bash
# Shared by the network benchmarks (scripts/bench_*.sh). Source it from the repository root:
#   . scripts/lib/bench.sh
#   bench_init NAME          # root or exit 1; builds the tool (CONFIG, default Release); sets TOOL=(dotnet .../tcpexposure.dll)
#   bench_stop PID           # SIGTERM a background process (if any) and wait for it
#   ... | median             # the median of the numbers on stdin (mean of the middle two for an even count)
#   ... | range              # "lowest-highest" of the numbers on stdin
# Each script keeps its own cleanup trap: what it starts differs (serve, a middlebox, a flood).

bench_init() {
  local name="$1"
  if [ "$(id -u)" != 0 ]; then
    echo "$name: needs root (network namespaces, raw sockets, iptables)" >&2
    exit 1
  fi
  CONFIG="${CONFIG:-Release}"
  dotnet build src/TcpExposure.Tool/TcpExposure.Tool.csproj -c "$CONFIG" -nologo -v q >/dev/null
  TOOL=(dotnet "src/TcpExposure.Tool/bin/$CONFIG/net10.0/tcpexposure.dll")
}

# bench_stop PID: SIGTERM to a background process (empty: nothing) and wait for it to go.
bench_stop() {
  [ -n "${1:-}" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
