#!/usr/bin/env bash
# The main job on the built-in test network: installs, builds, then runs `tcpexposure demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec scripts/tcpexposure demo "$@"
