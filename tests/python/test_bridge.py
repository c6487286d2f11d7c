"""The bridge itself (start-up errors, privileges), pcaplib, and the modern tcpexposure package."""
import os
import random
import shutil
import socket
import subprocess
import sys
import unittest

import pcaplib
import tcplib
import tcpsrlib
from helpers import REPO, is_root
from tcpexposure import Segment, sendrecv

PYTHONPATH = os.path.join(REPO, "python")


def run_py(code, env_extra=None, prefix=()):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, **(env_extra or {}))
    return subprocess.run(list(prefix) + [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


class Startup(unittest.TestCase):
    def test_missing_build_says_run_setup(self):
        p = run_py("import tcpsrlib; tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2)", {"TCPEXPOSURE_HOME": "/nonexistent"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("The C# library is not built", p.stderr)
        self.assertIn("run scripts/setup.sh", p.stderr)

    @unittest.skipUnless(is_root() and shutil.which("setpriv"), "needs root to drop to an unprivileged user")
    def test_without_cap_net_raw_raises_permission_error(self):
        code = ("import tcpsrlib, pcaplib\n"
                "p = tcpsrlib.make_segment('127.0.0.1', '127.0.0.1', 9, 40000, 100, 1, 0, 2)\n"
                "for f in (lambda: tcpsrlib.sendrecv_segments('127.0.0.1', (p,), timeout=0.1),\n"
                "          lambda: pcaplib.pcaplib().Pcap_open_live('lo')):\n"
                "    try:\n        f(); print('no error')\n"
                "    except PermissionError as e:\n        print('PermissionError', e)\n")
        p = run_py(code, prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2, p.stdout + p.stderr)
        for line in lines:
            self.assertTrue(line.startswith("PermissionError ") and "CAP_NET_RAW" in line, line)


class Modern(unittest.TestCase):
    def test_segment_roundtrip_and_summary(self):
        s = Segment("192.0.2.1", "192.0.2.2", 80, 55555, "S", 20000, window=8192,
                    options=[("MSS", 512), ("SACKOK", ""), ("TIMESTAMP", 12345, 0), ("WSCALE", 3), ("NOP", "")])
        self.assertTrue(s.summary().endswith("checksum 0x4e09"))
        back = Segment.parse(bytes(s))
        self.assertEqual((back.dst, back.src, back.dport, back.sport, back.flags, back.seq, back.window, back.checksum),
                         ("192.0.2.1", "192.0.2.2", 80, 55555, 2, 20000, 8192, 0x4e09))
        self.assertEqual(back.options[0], ("MSS", 512))
        self.assertEqual(back.reply("SA").dport, 55555)
        with self.assertRaisesRegex(ValueError, "unknown TCP flag letter"):
            Segment("1.2.3.4", "1.2.3.5", 1, 2, "SZ").to_bytes()


def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    return srv


@unittest.skipUnless(is_root(), "raw sockets and libpcap need CAP_NET_RAW")
class OnLoopback(unittest.TestCase):
    """A SYN to a kernel listener on 127.0.0.1; the SYN-ACK comes back through our receive path."""

    def test_legacy_sendrecv_raw_socket_gets_synack(self):
        with listener() as srv:
            port = srv.getsockname()[1]
            sport = random.randint(50000, 59999)
            syn = tcpsrlib.make_segment('127.0.0.1', '127.0.0.1', port, sport, 8192, 1000, 0, tcplib.TH_SYN,
                                        options=(('MSS', 512),))
            ans, err = tcpsrlib.sendrecv_segments('127.0.0.1', (syn,), timeout=1.0, sflags=tcplib.TH_SYN)
            self.assertEqual(err, 0)
            synack = tcpsrlib.get_synack(ans)
            self.assertIsNotNone(synack, [tcpsrlib.summarize_ans1(a) for a in ans])
            self.assertEqual((synack.ackno, synack.srcport, synack.dstport), (1001, port, sport))
            self.assertEqual(len(ans), 1)  # returned at the first SYN-ACK

    def test_modern_sendrecv_gets_synack(self):
        with listener() as srv:
            port = srv.getsockname()[1]
            syn = Segment("127.0.0.1", "127.0.0.1", port, random.randint(50000, 59999), "S", 7, ip_checksum=False)
            replies = sendrecv(syn, timeout=1.0, stop_at_syn_reply=True)
            self.assertEqual([(r.flags, r.ack) for r in replies], [(0x12, 8)])

    def test_pcaplib_inject_and_capture_on_loopback(self):
        p = pcaplib.pcaplib()
        p.Pcap_open_live("lo", 65535, 0, 100)
        try:
            self.assertEqual(p.datalink(), pcaplib.DLT_EN10MB)
            port = random.randint(20000, 29999)
            self.assertEqual(p.Pcap_compile("tcp dst port %d" % port, 1, 0), 0)
            self.assertEqual(p.Pcap_setfilter(), 0)
            self.assertEqual(p.Pcap_compile("not a filter ((", 1, 0), -1)
            self.assertIn("syntax error", p.errbuf)
            pkt = tcpsrlib.make_segment('127.0.0.1', '127.0.0.1', port, 1234, 100, 1, 0, tcplib.TH_SYN, ipcksum=1)
            frame = b"\0" * 12 + b"\x08\x00" + pkt
            self.assertEqual(p.Pcap_inject(frame), len(frame))
            for _ in range(20):
                rc, hdr, data = p.Pcap_next_ex()
                if rc == 1:
                    break
            self.assertEqual(rc, 1)
            self.assertEqual(data, frame)
            self.assertEqual(hdr[2], len(frame))
            eth, rest = tcpsrlib.parse_ether_header(data)
            self.assertEqual((eth.type, rest), (0x0800, pkt))
        finally:
            p.Pcap_close()
        with self.assertRaises(ValueError):
            p.Pcap_next_ex()


if __name__ == "__main__":
    unittest.main()
