#!/usr/bin/env python3
"""tcpsrlib.make_segment (C# library through the in-process bridge) against scapy building the
same segment, in the same run. Four options per segment: MSS, SACKOK, TIMESTAMP, WSCALE.

    /usr/bin/python3 scripts/bench_python.py [--seconds S]

Prints the bridge start-up time, a bare bridge call, both per-segment costs and their ratio.
"""
import argparse
import os
import sys
import time
import timeit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))

OPTIONS = (('MSS', 1460), ('SACKOK', ''), ('TIMESTAMP', 12345, 0), ('WSCALE', 7))
DADDR, SADDR = 0xC0000201, 0xC0000202


def per_call(fn, seconds):
    """Best of five runs, each about seconds/5 long, in microseconds per call."""
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t > 0.05:
            break
        n *= 4
    n = max(1, int(n * (seconds / 5) / t))
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from tcpexposure import _bridge
    bridge = _bridge.get()
    start_ms = (time.perf_counter() - t0) * 1000
    import tcpsrlib

    def ours():
        return tcpsrlib.make_segment(DADDR, SADDR, 80, 55555, 8192, 20000, 0, 2, OPTIONS, None, 1)

    ours()
    bare = per_call(bridge.Version, args.seconds)
    mine = per_call(ours, args.seconds)
    print("bridge start (hostfxr + runtime + entry points): %.1f ms" % start_ms)
    print("bare bridge call:                                %.2f us" % bare)
    print("tcpsrlib.make_segment, 4 options:                %.2f us/segment" % mine)
    try:
        import logging
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy.layers.inet import IP, TCP
    except ImportError:
        print("scapy: not installed (Debian python3-scapy; run with /usr/bin/python3)")
        return 0 if mine <= 3.0 else 1
    sopts = [('MSS', 1460), ('SAckOK', b''), ('Timestamp', (12345, 0)), ('WScale', 7)]

    def theirs():
        return bytes(IP(src="192.0.2.2", dst="192.0.2.1", id=0x1234, ttl=255, flags=0) /
                     TCP(sport=55555, dport=80, seq=20000, ack=0, flags="S", window=8192, options=sopts))

    a, b = ours(), theirs()
    # Same segment except the option padding scapy chooses (EOL) vs ours (NOP) after the 17 bytes of options.
    same = a[:36] == b[:36] and len(a) == len(b)
    theirs_us = per_call(theirs, args.seconds)
    print("scapy IP()/TCP() -> bytes, same segment:         %.2f us/segment%s" % (theirs_us, "" if same else " (bytes differ!)"))
    print("ratio: scapy / tcpsrlib = %.0fx" % (theirs_us / mine))
    return 0 if mine <= 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
