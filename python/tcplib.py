"""tcplib: TCP/IP constants and the header classes of the legacy TCPExposure (LEGACY_API.md).

Plain attribute holders with the legacy names; parsing and building happen in the C# library
(tcpsrlib.parse_headers / make_segment).
"""

TH_FIN = 0x01
TH_SYN = 0x02
TH_RST = 0x04
TH_PUSH = 0x08
TH_ACK = 0x10
TH_URG = 0x20
TH_ECE = 0x40
TH_CWR = 0x80

TO_EOL = 0
TO_NOP = 1
TO_MSS = 2
TO_WSCALE = 3
TO_SACKOK = 4
TO_TIMESTAMP = 8
TO_MP_CAPABLE = 30
TO_MP_DATA = 31
TO_MP_ACK = 32

MPTCP_PORT = 34343
BASEHDRLEN = 40
TCPHLEN = 20


class iphdr:
    """IPv4 header fields; addresses are host-order integers."""

    def __init__(self, inith=0x4500, length=0, id=0, flags=0, ttl=0, proto=6, hdrcksum=0, srcaddr=0, dstaddr=0):
        self.inith = inith
        self.length = length
        self.id = id
        self.flags = flags
        self.ttl = ttl
        self.proto = proto
        self.hdrcksum = hdrcksum
        self.srcaddr = srcaddr
        self.dstaddr = dstaddr
        self.version = inith >> 12
        self.hdrlen = ((inith >> 8) & 0xF) * 4

    def __repr__(self):
        return "iphdr(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class tcphdr:
    """TCP header fields; ``flag`` is the flags (singular, as in the original), ``hlen`` the raw data-offset byte."""

    def __init__(self, srcport=0, dstport=0, seqno=0, ackno=0, hlen=0x50, flag=0, window=0, checksum=0, urg=0, option=b""):
        self.srcport = srcport
        self.dstport = dstport
        self.seqno = seqno
        self.ackno = ackno
        self.hlen = hlen
        self.flag = flag
        self.window = window
        self.checksum = checksum
        self.urg = urg
        self.option = option
        self.offset = hlen >> 4
        self.hdrlen = self.offset * 4

    def __repr__(self):
        return "tcphdr(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class etherhdr:
    """Ethernet header: MACs as 48-bit integers, ``type`` the EtherType."""

    def __init__(self, dhost, shost, type=0x0800):
        self.dhost = dhost
        self.shost = shost
        self.type = type

    def __repr__(self):
        return "etherhdr(dhost=0x%012x, shost=0x%012x, type=0x%04x)" % (self.dhost, self.shost, self.type)
