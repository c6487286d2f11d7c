#!/usr/bin/python3
"""Builds TCP/IP packets with scapy from a JSON description and prints their bytes as hex.

Input (stdin): a JSON array; each element describes one packet:
  {"ip": {"v": 4, "src", "dst", "tos", "id", "flags", "frag", "ttl", "proto",
          "options": [hex of one IP option, ...], "ihl": int|null, "len": int|null, "chksum": int|null}
       | {"v": 6, "src", "dst", "tc", "fl", "hlim", "nh", "plen": int|null},
   "tcp": {"sport", "dport", "seq", "ack", "dataofs": int|null, "reserved", "flags", "window",
           "chksum": int|null, "urgptr",
           "options": [[name, value], ...]},   # scapy's own option model, see OPTION_VALUES
   "payload": hex}
Output (stdout): one line per packet, the hex scapy builds, in input order.

Run with Debian's /usr/bin/python3 (python3-scapy).
"""
import json
import sys

try:
    from scapy.layers.inet import IP, TCP, IPOption, TCPAOValue
    from scapy.layers.inet6 import IPv6
    from scapy.packet import Raw
except ImportError as e:  # pragma: no cover - environment problem, reported to the C# test
    sys.stderr.write("scapy is not importable (%s); install python3-scapy (scripts/setup.sh)\n" % e)
    sys.exit(3)


def tcp_option(name, value):
    """Turns one [name, value] pair into the (name, value) scapy's TCPOptionsField takes."""
    if isinstance(name, int):
        return (name, bytes.fromhex(value))          # any kind as raw bytes: scapy writes kind, 2+len, data
    if name in ("NOP", "EOL"):
        return (name, None)
    if name in ("MSS", "WScale"):
        return (name, int(value))
    if name == "SAckOK":
        return (name, b"")
    if name in ("SAck", "Timestamp"):
        return (name, tuple(int(x) for x in value))
    if name == "MD5":
        return (name, bytes.fromhex(value))
    if name == "AO":
        return (name, TCPAOValue(keyid=value["keyid"], rnextkeyid=value["rnextkeyid"], mac=bytes.fromhex(value["mac"])))
    if name == "TFO":
        if isinstance(value, list):
            return (name, tuple(int(x) for x in value))  # the 8-byte cookie through scapy's "!II"
        return (name, bytes.fromhex(value))            # request (empty) or a cookie of another length
    raise ValueError("unknown option name %r" % (name,))


def build(d):
    ipd, tcpd = d["ip"], d["tcp"]
    if ipd["v"] == 4:
        kw = dict(src=ipd["src"], dst=ipd["dst"], tos=ipd["tos"], id=ipd["id"], flags=ipd["flags"],
                  frag=ipd["frag"], ttl=ipd["ttl"], proto=ipd["proto"],
                  options=[IPOption(bytes.fromhex(o)) for o in ipd["options"]])
        for k in ("ihl", "len", "chksum"):
            if ipd.get(k) is not None:
                kw[k] = ipd[k]
        ip = IP(**kw)
    else:
        kw = dict(src=ipd["src"], dst=ipd["dst"], tc=ipd["tc"], fl=ipd["fl"], hlim=ipd["hlim"], nh=ipd["nh"])
        if ipd.get("plen") is not None:
            kw["plen"] = ipd["plen"]
        ip = IPv6(**kw)
    kw = dict(sport=tcpd["sport"], dport=tcpd["dport"], seq=tcpd["seq"], ack=tcpd["ack"],
              reserved=tcpd["reserved"], flags=tcpd["flags"], window=tcpd["window"], urgptr=tcpd["urgptr"],
              options=[tcp_option(n, v) for n, v in tcpd["options"]])
    for k in ("dataofs", "chksum"):
        if tcpd.get(k) is not None:
            kw[k] = tcpd[k]
    pkt = ip / TCP(**kw)
    payload = bytes.fromhex(d["payload"])
    if payload:
        pkt = pkt / Raw(load=payload)
    return bytes(pkt).hex()


def main():
    packets = json.load(sys.stdin)
    out = []
    for i, d in enumerate(packets):
        try:
            out.append(build(d))
        except Exception as e:  # one bad description must not hide the others
            out.append("ERROR %s: %s" % (type(e).__name__, e))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
