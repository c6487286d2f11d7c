#!/usr/bin/env python3
"""Sums NUnit (trx) and Python test results into the closing line CI reads."""
import json, pathlib, sys, xml.etree.ElementTree as ET

root = pathlib.Path(sys.argv[1])
passed = failed = skipped = 0
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in sorted(root.rglob("*.trx")):
    counters = ET.parse(trx).getroot().find("t:ResultSummary/t:Counters", ns)
    if counters is None:
        failed += 1
        print(f"count: {trx.name} has no result summary", file=sys.stderr)
        continue
    c = {k: int(v) for k, v in counters.attrib.items()}
    passed += c.get("passed", 0)
    failed += c.get("failed", 0) + c.get("error", 0) + c.get("timeout", 0) + c.get("aborted", 0)
    skipped += c.get("notExecuted", 0)
py = root / "python.json"
if py.exists():
    r = json.loads(py.read_text())
    passed += r["passed"]; failed += r["failed"]; skipped += r["skipped"]
elif pathlib.Path("tests/python").exists():
    failed += 1
    print("count: the Python tests did not report", file=sys.stderr)
if passed + failed == 0:
    failed = 1
    print("count: no test ran", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
