#!/usr/bin/env bash
# Installs what TcpExposure.Net needs on a fresh Debian machine with the .NET 10 SDK, then builds.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpcap0.8 iptables iproute2 tshark python3 python3-scapy hping3 wget curl netcat-openbsd procps util-linux ethtool iputils-ping)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages (${missing[*]}); run as root or install them with apt-get." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK (dotnet) is not on PATH." >&2
  exit 1
fi

CONFIG="${CONFIG:-Release}"
echo "setup: building ($CONFIG)" >&2
dotnet build TcpExposure.Net.sln -c "$CONFIG" -nologo -v q -clp:NoSummary -p:WarningLevel=0 >&2
