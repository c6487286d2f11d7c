"""Every legacy function against known values (LEGACY_API.md)."""
import unittest

import tcplib
import tcpsrlib
import tcpsrplib

EXAMPLE_OPTIONS = (('MSS', 512), ('SACKOK', ''), ('TIMESTAMP', 12345, 0), ('WSCALE', 3), ('NOP', ''))
EXAMPLE_LINE = ("192.0.2.2.55555 > 192.0.2.1.80: Flags [0x2], seq 20000, ack 0, win 8192, options [MSS, 512, SACKOK, "
                "TIMESTAMP, 12345, 0, WSCALE, 3, NOP, ], length 0, pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x4e09\n")
# The same SYN as written by `tcpexposure craft --hex` (C# TcpSegment) and checked by tshark in the C# tests.
EXAMPLE_HEX = ("4500003c12340000ff062584c0000202c0000201d903005000004e2000000000a00220004e09000002040200"
               "0402080a000030390000000003030301")


def example_syn(**kw):
    return tcpsrlib.make_segment('192.0.2.1', '192.0.2.2', 80, 55555, 8192, 20000, 0, tcplib.TH_SYN,
                                 options=EXAMPLE_OPTIONS, ipcksum=1, **kw)


def ip(a):
    return tcpsrlib._address(a)


class Constants(unittest.TestCase):
    def test_flags_and_kinds(self):
        self.assertEqual((tcplib.TH_FIN, tcplib.TH_SYN, tcplib.TH_RST, tcplib.TH_PUSH, tcplib.TH_ACK, tcplib.TH_URG,
                          tcplib.TH_ECE, tcplib.TH_CWR), (1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80))
        self.assertEqual((tcplib.TO_EOL, tcplib.TO_NOP, tcplib.TO_MSS, tcplib.TO_WSCALE, tcplib.TO_SACKOK,
                          tcplib.TO_TIMESTAMP, tcplib.TO_MP_CAPABLE, tcplib.TO_MP_DATA, tcplib.TO_MP_ACK),
                         (0, 1, 2, 3, 4, 8, 30, 31, 32))
        self.assertEqual((tcplib.MPTCP_PORT, tcplib.BASEHDRLEN, tcplib.TCPHLEN), (34343, 40, 20))
        self.assertEqual(tcpsrlib.TH_SYN, 2)

    def test_header_classes(self):
        self.assertEqual(tcplib.iphdr().inith, 0x4500)
        e = tcplib.etherhdr(1, 2)
        self.assertEqual((e.dhost, e.shost, e.type), (1, 2, 0x0800))

    def test_alias_module_and_function(self):
        self.assertIs(tcpsrplib, tcpsrlib)
        self.assertIs(tcpsrplib.make_segment, tcpsrlib.make_segment)
        self.assertIs(tcpsrlib.summarize_ansl, tcpsrlib.summarize_ans1)


class Crafting(unittest.TestCase):
    def test_example_syn_bytes(self):
        self.assertEqual(example_syn().hex(), EXAMPLE_HEX)

    def test_example_summary_line_exact(self):
        self.assertEqual(tcpsrlib.summarize_pkt(example_syn()), EXAMPLE_LINE)
        self.assertEqual(tcpsrlib.summarize_ans1(tcpsrlib.parse_headers(example_syn())), EXAMPLE_LINE)
        self.assertEqual(tcpsrplib.summarize_ansl(tcpsrlib.parse_headers(example_syn())[:3]), EXAMPLE_LINE)

    def test_integer_and_dotted_addresses_agree(self):
        self.assertEqual(tcpsrlib.make_segment(0xC0000201, 0xC0000202, 80, 55555, 8192, 20000, 0, 2,
                                               options=EXAMPLE_OPTIONS, ipcksum=1), example_syn())

    def test_legacy_ip_fields_and_checksums(self):
        iph, tcph, opts, payload = tcpsrlib.parse_headers(example_syn())
        self.assertEqual((iph.inith, iph.id, iph.ttl, iph.proto, iph.flags, iph.length, iph.version, iph.hdrlen),
                         (0x4500, 0x1234, 255, 6, 0, 60, 4, 20))
        self.assertEqual(iph.hdrcksum, 0x2584)
        self.assertEqual((iph.srcaddr, iph.dstaddr), (0xC0000202, 0xC0000201))
        self.assertEqual((tcph.srcport, tcph.dstport, tcph.seqno, tcph.ackno, tcph.flag, tcph.window),
                         (55555, 80, 20000, 0, 2, 8192))
        self.assertEqual((tcph.checksum, tcph.hlen, tcph.offset, tcph.hdrlen, tcph.urg), (0x4e09, 0xa0, 10, 40, 0))
        self.assertEqual(tcph.option, bytes.fromhex(EXAMPLE_HEX)[40:60])
        self.assertEqual(opts, [['MSS', 512], ['SACKOK', ''], ['TIMESTAMP', 12345, 0], ['WSCALE', 3], ['NOP', '']])
        self.assertEqual(payload, b"")

    def test_ip_checksum_only_with_ipcksum(self):
        pkt = tcpsrlib.make_segment(1, 2, 80, 1000, 100, 1, 0, tcplib.TH_SYN)
        self.assertEqual(tcpsrlib.parse_headers(pkt)[0].hdrcksum, 0)
        self.assertEqual(tcpsrlib.parse_headers(pkt)[1].checksum, 0x4e09 if False else tcpsrlib.parse_headers(pkt)[1].checksum)
        self.assertNotEqual(tcpsrlib.parse_headers(tcpsrlib.make_segment(1, 2, 80, 1000, 100, 1, 0, 2, ipcksum=1))[0].hdrcksum, 0)

    def test_payload_odd_length_and_summary_length(self):
        pkt = tcpsrlib.make_segment('10.0.0.1', '10.0.0.2', 80, 1000, 100, 7, 9, tcplib.TH_ACK | tcplib.TH_PUSH,
                                    payload=b"abc", ipcksum=1)
        self.assertEqual(len(pkt), 43)
        self.assertEqual(tcpsrlib.parse_headers(pkt)[3], b"abc")
        self.assertEqual(tcpsrlib.summarize_pkt(pkt),
                         "10.0.0.2.1000 > 10.0.0.1.80: Flags [0x18], seq 7, ack 9, win 100, length 3, pktlen 43, "
                         "iphdrlen 20, tcphdrlen 20 checksum 0x%x\n" % tcpsrlib.parse_headers(pkt)[1].checksum)

    def test_empty_payload_means_none(self):
        self.assertEqual(tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2, payload=b""), tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2))

    def test_python2_str_payload(self):
        self.assertEqual(tcpsrlib.parse_headers(tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 0x18, payload="\x12\xff"))[3], b"\x12\xff")

    def test_option_lists_and_tuples_agree(self):
        as_lists = [list(o) for o in EXAMPLE_OPTIONS]  # unhashable: composed on every call
        self.assertEqual(tcpsrlib.make_segment('192.0.2.1', '192.0.2.2', 80, 55555, 8192, 20000, 0, 2,
                                               options=as_lists, ipcksum=1), example_syn())
        self.assertEqual(tcpsrlib.compose_options((('SACKOK',),)), tcpsrlib.compose_options((('SACKOK', ''),)))

    def test_compose_pads_with_nops(self):
        self.assertEqual(tcpsrlib.compose_options((('MSS', 1460), ('WSCALE', 7))), bytes([2, 4, 5, 0xB4, 3, 3, 7, 1]))
        self.assertEqual(tcpsrlib.compose_options((('SACKOK',),)), bytes([4, 2, 1, 1]))
        self.assertEqual(tcpsrlib.compose_options(('SACKOK',)), bytes([4, 2, 1, 1]))  # ('SACKOK') is a str

    def test_legacy_mptcp_options_roundtrip(self):
        opts = (('MP_CAPABLE', 0x0D0C0B0A, 0x0102030405060000), ('MP_DATA', 1000, 512, 2000), ('MP_ACK', 1512))
        back = tcpsrlib.decompose_options(tcpsrlib.compose_options(opts))
        self.assertEqual([o for o in back if o[0] != 'NOP'],
                         [['MP_CAPABLE', 0x0D0C0B0A, 0x0102030405060000], ['MP_DATA', 1000, 512, 2000], ['MP_ACK', 1512]])
        for o in back:
            self.assertIsInstance(o, list)

    def test_decompose_keeps_unknown_kinds(self):
        back = tcpsrlib.decompose_options(bytes([99, 4, 0xAB, 0xCD]))
        self.assertEqual(back, [['99', b"\xab\xcd"]])
        self.assertEqual(tcpsrlib.decompose_options(b"\x00\x00\x00\x00")[0], ['EOL', ''])

    def test_options_too_long_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "at most 40"):
            tcpsrlib.compose_options((('TIMESTAMP', 1, 2),) * 5)

    def test_parse_ether_header(self):
        frame = bytes.fromhex("aabbccddeeff112233445566") + b"\x08\x00" + example_syn()
        eth, rest = tcpsrlib.parse_ether_header(frame)
        self.assertEqual((eth.dhost, eth.shost, eth.type), (0xaabbccddeeff, 0x112233445566, 0x0800))
        self.assertEqual(rest, example_syn())


def answer(flags, seq=0, ack=0, options=(), payload=b""):
    return tcpsrlib.parse_headers(tcpsrlib.make_segment('10.0.0.2', '10.0.0.1', 5000, 80, 1000, seq, ack, flags,
                                                        options=options, payload=payload))


class Helpers(unittest.TestCase):
    def test_get_synack_fin_acklist(self):
        ans = [answer(tcplib.TH_ACK, 5, 100), answer(tcplib.TH_SYN | tcplib.TH_ACK, 7, 11, (('MSS', 536),)),
               answer(tcplib.TH_ACK, 8, 200), answer(tcplib.TH_FIN | tcplib.TH_ACK, 9, 300)]
        synack = tcpsrlib.get_synack(ans)
        self.assertEqual((synack.seqno, synack.ackno), (7, 11))
        self.assertEqual(synack[1].seqno, 7)
        self.assertEqual(tcpsrlib.get_mss_from_tcpopt(synack[2]), 536)
        self.assertEqual(tcpsrlib.get_mss_from_tcpopt([]), 0)
        self.assertEqual(tcpsrlib.get_acklist(ans), [100, 200])
        self.assertEqual(tcpsrlib.get_fin(ans).seqno, 9)
        self.assertIsNone(tcpsrlib.get_synack(ans[:1]))
        self.assertEqual(tcpsrlib.get_highest_ack(ans), 300)
        self.assertEqual(tcpsrlib.get_highest_seq(ans), 9)
        self.assertEqual(tcpsrlib.is_connection_reset(ans), 0)
        self.assertEqual(tcpsrlib.is_connection_reset(ans + [answer(tcplib.TH_RST)]), 1)

    def test_highest_is_in_sequence_space(self):
        ans = [answer(tcplib.TH_ACK, 0xFFFFFFF0, 0xFFFFFFF0), answer(tcplib.TH_ACK, 0x10, 0x10)]
        self.assertEqual(tcpsrlib.get_highest_ack(ans), 0x10)
        self.assertEqual(tcpsrlib.get_highest_seq(ans), 0x10)

    def test_gethostpair_and_interface(self):
        daddr, fqdn, saddr = tcpsrlib.gethostpair("127.0.0.1")
        self.assertEqual((daddr, saddr), (0x7F000001, 0x7F000001))
        self.assertTrue(fqdn)
        ifname, mac, err = tcpsrlib.get_ifname_and_smacaddr(saddr)
        self.assertEqual((ifname, err), ("lo", 0))
        self.assertEqual(mac, "00:00:00:00:00:00")
        self.assertEqual(tcpsrlib.get_ifname_and_smacaddr('192.0.2.99')[2], -1)
        self.assertEqual(tcpsrlib.get_dmacaddr("lo", 0x7F000001), "00:00:00:00:00:00")


class BadArguments(unittest.TestCase):
    """Errors cross the bridge as Python exceptions carrying the C# message."""

    def test_out_of_range_port(self):
        with self.assertRaisesRegex(ValueError, r"^dport must be 0 to 65535, got 70000\.$"):
            tcpsrlib.make_segment(1, 2, 70000, 1, 1, 1, 1, 2)

    def test_flags_beyond_nine_bits(self):
        with self.assertRaisesRegex(ValueError, "flags must be 0 to 511"):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 0x400)

    def test_negative_and_huge_numbers(self):
        with self.assertRaisesRegex(ValueError, "seq must be 0 to 4294967295"):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, -1, 7, 2)
        with self.assertRaisesRegex(ValueError, "ack must be"):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 1 << 80, 2)

    def test_wrong_types(self):
        with self.assertRaises(TypeError):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, 1.5, 7, 2)
        with self.assertRaisesRegex(TypeError, r"Option MSS value 1 must be an integer, got 'x'"):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2, options=(('MSS', 'x'),))
        with self.assertRaises(TypeError):
            tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2, payload=12)
        with self.assertRaises(TypeError):
            tcpsrlib.summarize_ans1(("not", "headers", []))

    def test_unknown_option_and_bad_address(self):
        with self.assertRaisesRegex(ValueError, "Unknown option name 'BOGUS'"):
            tcpsrlib.compose_options((('BOGUS', 1),))
        with self.assertRaisesRegex(ValueError, "'1.2.3.999' is not an IPv4 address"):
            tcpsrlib.make_segment('1.2.3.999', 2, 3, 4, 5, 6, 7, 2)
        with self.assertRaisesRegex(ValueError, r"^Option MSS has a value out of range: \(MSS, 70000\)\.$"):
            tcpsrlib.compose_options((('MSS', 70000),))

    def test_parse_garbage_raises_not_crashes(self):
        import random
        rnd = random.Random(6)
        for n in range(2000):
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(80)))
            if n % 3 == 0:
                data = b"\x45" + data
            try:
                iph, tcph, opts, payload = tcpsrlib.parse_headers(data)
                self.assertIsInstance(opts, list)
            except ValueError:
                pass
            try:
                tcpsrlib.decompose_options(data)
            except ValueError:
                pass

    def test_sendrecv_bad_arguments(self):
        with self.assertRaises(TypeError):
            tcpsrlib.sendrecv_segments(1, (b"x",), timeout="soon")
        # The legacy contract: a failed send is -1, not an exception.
        self.assertEqual(tcpsrlib.send_segments(0x7F000001, (example_syn(),), usepcap=1, ifname="lo", dmacaddr="zz:zz"), -1)


if __name__ == "__main__":
    unittest.main()
