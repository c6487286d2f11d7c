#!/usr/bin/env python3
"""The legacy TCPExposure example (LEGACY_API.md): a three-way handshake and one 512-byte data
segment, crafted by hand and sent through libpcap, against HOST:PORT.

    tcpexposure script examples/example.py HOST [PORT]

Needs CAP_NET_RAW (pcap) and CAP_NET_ADMIN (the rule that keeps the kernel's own RSTs away:
its socket table knows nothing of this connection).
"""
import random
import sys

import tcplib
import tcpsrlib

try:
    from tcpexposure import rst_guard
except ImportError:  # the original modules: block the kernel's RSTs by hand
    rst_guard = None


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: example.py HOST [PORT]\n")
        return 2
    host = argv[1]
    dport = int(argv[2]) if len(argv) > 2 else 80

    daddr, fqdn, saddr = tcpsrlib.gethostpair(host)
    sport = random.randint(50000, 59999)

    ifname, smacaddr, err = tcpsrlib.get_ifname_and_smacaddr(saddr)
    if err:
        sys.stderr.write("no interface holds our address\n")
        return 1
    dmacaddr = tcpsrlib.get_dmacaddr(ifname, daddr)
    if not dmacaddr:
        dmacaddr = tcpsrlib.get_dmacaddr(ifname, daddr)  # retry once
        if not dmacaddr:
            sys.stderr.write("cannot resolve the next hop's MAC address\n")
            return 1
    print("%s (%s) port %d from port %d on %s" % (host, fqdn, dport, sport, ifname))

    guard = rst_guard(saddr, sport) if rst_guard else None
    if guard:
        guard.__enter__()
    try:
        # SYN
        options = (('MSS', 512), ('SACKOK', ''), ('TIMESTAMP', 12345, 0), ('WSCALE', 3), ('NOP', ''))
        syn = tcpsrlib.make_segment(daddr, saddr, dport, sport, 8192, 20000, 0, tcplib.TH_SYN,
                                    options=options, ipcksum=1)
        print(tcpsrlib.summarize_pkt(syn), end="")
        ans, err = tcpsrlib.sendrecv_segments(daddr, (syn,), timeout=2.0, sflags=tcplib.TH_SYN, usepcap=1,
                                              ifname=ifname, smacaddr=smacaddr, dmacaddr=dmacaddr)
        for a in ans:
            print(tcpsrlib.summarize_ans1(a), end="")
        synack = tcpsrlib.get_synack(ans)
        if err or synack is None:
            print("no SYN-ACK")
            return 1

        # ACK
        seq = synack.ackno
        ack = synack.seqno + 1
        pkt = tcpsrlib.make_segment(daddr, saddr, dport, sport, 8192, seq, ack, tcplib.TH_ACK, ipcksum=1)
        print(tcpsrlib.summarize_pkt(pkt), end="")
        if tcpsrlib.send_segments(daddr, (pkt,), usepcap=1, ifname=ifname, smacaddr=smacaddr, dmacaddr=dmacaddr):
            print("sending the ACK failed")
            return 1

        # 512 bytes of data
        payload = b"\x12" * 512
        pkt = tcpsrlib.make_segment(daddr, saddr, dport, sport, 8192, seq, ack, tcplib.TH_ACK | tcplib.TH_PUSH,
                                    payload=payload, ipcksum=1)
        print(tcpsrlib.summarize_pkt(pkt), end="")
        ans, err = tcpsrlib.sendrecv_segments(daddr, (pkt,), timeout=1.0, usepcap=1, ifname=ifname,
                                              smacaddr=smacaddr, dmacaddr=dmacaddr)
        for a in ans:
            print(tcpsrlib.summarize_ans1(a), end="")
        acks = tcpsrlib.get_acklist(ans)
        print("acknowledged: %s" % (acks,))
        return 0 if seq + len(payload) in acks else 1
    finally:
        if guard:
            guard.__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
