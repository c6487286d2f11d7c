"""Shared test helpers: the built CLI, root check, scapy availability."""
import os
import subprocess
import sys

from tcpexposure import _bridge

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli():
    return ["dotnet", str(_bridge.find_home() / "tcpexposure.dll")]


def run_cli(*args, timeout=120, check=True):
    p = subprocess.run(cli() + list(args), capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("tcpexposure %s exited %d: %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def is_root():
    return os.geteuid() == 0


def has_verb(verb):
    """Whether the built command lists verb in its help (verbs are found by reflection)."""
    p = subprocess.run(cli() + ["--help"], capture_output=True, text=True, timeout=60)
    return any(line.split()[:1] == [verb] for line in (p.stdout + p.stderr).splitlines())
