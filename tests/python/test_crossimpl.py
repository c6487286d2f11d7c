"""make_segment bytes against the C# command line (`tcpexposure craft --hex`) and scapy."""
import unittest

import tcplib
import tcpsrlib
from helpers import run_cli

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, TCP
    from scapy.packet import Raw
    HAVE_SCAPY = True
except ImportError:
    HAVE_SCAPY = False

CASES = [
    # (sport, dport, seq, ack, flags, window, legacy options, drill options, scapy options, payload)
    (55555, 80, 20000, 0, "S", 8192,
     (('MSS', 512), ('SACKOK', ''), ('TIMESTAMP', 12345, 0), ('WSCALE', 3), ('NOP', '')),
     "mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop",
     [('MSS', 512), ('SAckOK', b''), ('Timestamp', (12345, 0)), ('WScale', 3), ('NOP', None)], b""),
    (40000, 443, 0xFFFFFF00, 123456789, "PA", 65535,
     (('NOP',), ('NOP',), ('TIMESTAMP', 4000000000, 17)),
     "nop,nop,TS val 4000000000 ecr 17",
     [('NOP', None), ('NOP', None), ('Timestamp', (4000000000, 17))], bytes(range(77))),
    (1, 65535, 1, 2, "FA", 0, (), "", [], b"x"),
]
FLAGS = {"S": tcplib.TH_SYN, "PA": tcplib.TH_PUSH | tcplib.TH_ACK, "FA": tcplib.TH_FIN | tcplib.TH_ACK}


class CrossImplementation(unittest.TestCase):
    def legacy(self, case):
        sport, dport, seq, ack, flags, win, opts, _, _, payload = case
        return tcpsrlib.make_segment('198.51.100.7', '203.0.113.9', dport, sport, win, seq, ack, FLAGS[flags],
                                     options=opts, payload=payload, ipcksum=1)

    def test_same_bytes_as_the_csharp_command(self):
        for case in CASES:
            sport, dport, seq, ack, flags, win, _, drill, _, payload = case
            with self.subTest(case=case[:6]):
                seg = "%s %d:%d(%d)%s win %d%s ttl 255 id 0x1234" % (
                    flags.replace("A", "."), seq, (seq + len(payload)) & 0xFFFFFFFF, len(payload),
                    " ack %d" % ack if "A" in flags else "", win, " <%s>" % drill if drill else "")
                args = ["craft", "--src", "203.0.113.9:%d" % sport, "--dst", "198.51.100.7:%d" % dport,
                        "--segment", seg, "--hex"]
                if payload:
                    args += ["--payload-hex", payload.hex()]
                out = run_cli(*args).stdout.strip().splitlines()
                self.assertEqual(out[-1], self.legacy(case).hex())

    @unittest.skipUnless(HAVE_SCAPY, "scapy is not installed (Debian python3-scapy; use /usr/bin/python3)")
    def test_same_bytes_as_scapy(self):
        for case in CASES:
            sport, dport, seq, ack, flags, win, _, _, sopts, payload = case
            with self.subTest(case=case[:6]):
                p = IP(src='203.0.113.9', dst='198.51.100.7', id=0x1234, ttl=255, flags=0) / \
                    TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=win, options=sopts)
                if payload:
                    p = p / Raw(payload)
                self.assertEqual(self.legacy(case).hex(), bytes(p).hex())


if __name__ == "__main__":
    unittest.main()
