#!/usr/bin/python3
"""Times Debian's scapy building and parsing the benchmark SYN and compares with our figures.

The segment is the one in tests/TcpExposure.Benchmarks/SynSegment.cs: 160-byte IPv4 SYN,
192.0.2.2:55555 -> 192.0.2.1:80, MSS 1460, SACK-permitted, timestamps 12345/0, window scale 7,
a 100-byte payload 00..63, both checksums computed. Our nanosecond figures come from
BenchmarkDotNet's CSV report. Run with /usr/bin/python3 (the one with python3-scapy).
"""
import argparse
import csv
import statistics
import sys
import time

from scapy.all import IP, TCP, Raw  # noqa: E402  (Debian python3-scapy)

PAYLOAD = bytes(range(100))


def build():
    pkt = IP(src="192.0.2.2", dst="192.0.2.1", id=0x1234, ttl=64) / TCP(
        sport=55555, dport=80, seq=20000, ack=0, flags="S", window=8192,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("WScale", 7)]) / Raw(PAYLOAD)
    return bytes(pkt)


def parse(raw):
    p = IP(raw)
    opts = dict((k, v) for k, v in p[TCP].options if isinstance(k, str))
    return p[TCP].sport, p[TCP].window, opts.get("MSS"), opts.get("WScale"), opts.get("Timestamp")


def rate(fn, seconds):
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            fn()
        n += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def ours(csv_paths):
    """Method -> figures in ns from BenchmarkDotNet's CSV reports, one per round: the median of the
    rounds' medians, the median of their means (a burst of load on the shared machine moves a mean
    more than a median), the lowest minimum, and the allocation."""
    scale = {"ns": 1.0, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}

    def ns(text):
        value, unit = text.replace(",", "").split()
        return float(value) * scale[unit]

    rounds = {}
    for path in csv_paths:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                r = rounds.setdefault(row["Method"], {"mean": [], "median": [], "min": [], "alloc": "?"})
                r["mean"].append(ns(row["Mean"]))
                r["median"].append(ns(row.get("Median") or row["Mean"]))
                r["min"].append(ns(row.get("Min") or row["Mean"]))
                r["alloc"] = row.get("Allocated", "?")
    return {m: (statistics.median(r["median"]), statistics.median(r["mean"]), min(r["min"]), r["alloc"])
            for m, r in rounds.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv", required=True, nargs="+", help="BenchmarkDotNet CSV reports of CodecBenchmarks, one per round")
    ap.add_argument("--hex", help="our encoding of the segment, to check scapy builds the same bytes")
    ap.add_argument("--seconds", type=float, default=3.0, help="time per scapy measurement")
    args = ap.parse_args()

    raw = build()
    if args.hex:
        same = raw.hex() == args.hex.strip()
        print(f"scapy's bytes {'are identical to' if same else 'DIFFER from'} ours ({len(raw)} bytes)")
        if not same:
            print(f"  scapy {raw.hex()}\n  ours  {args.hex.strip()}")
            return 1
    assert parse(raw)[2] == 1460

    builds = rate(build, args.seconds)
    parses = rate(lambda: parse(raw), args.seconds)
    fig = ours(args.csv)
    rows = [
        ("encode 160-byte SYN", "EncodeSyn", builds, "build"),
        ("encode, first time (no cached header)", "EncodeSynFirst", builds, "build"),
        ("parse with options", "ParseSyn", parses, "parse"),
        ("summary line", "SummaryLine", None, None),
        ("typed parse (SegmentParser)", "ParseToSegment", parses, "parse"),
    ]
    print()
    rounds = len(args.csv)
    of = "" if rounds == 1 else f" (median of {rounds} rounds)"
    print(f"| operation | median{of} | mean{of} | min | allocated | ours ops/s (median) | scapy ops/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, method, scapy, _ in rows:
        if method not in fig:
            continue
        ns, mean, low, alloc = fig[method]
        ops = 1e9 / ns
        s = f"{scapy:,.0f}" if scapy else "-"
        r = f"{ops / scapy:,.0f}x" if scapy else "-"
        print(f"| {label} | {ns:,.1f} ns | {mean:,.1f} ns | {low:,.1f} ns | {alloc} | {ops:,.0f} | {s} | {r} |")
    print()
    print(f"scapy: {builds:,.0f} builds/s, {parses:,.0f} parses/s (python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
