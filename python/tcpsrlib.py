"""tcpsrlib: crafting, sending, receiving and printing TCP segments (the legacy TCPExposure API).

Names, argument orders and result shapes are those of LEGACY_API.md; the work is done by the C#
library (TcpExposure.Craft.Legacy / Transport) through the in-process bridge, so bytes, checksums
and summaries are exactly the C# ones. Errors: TypeError/ValueError for bad arguments,
PermissionError without CAP_NET_RAW, OSError for the network, each with the C# message.
"""
import ctypes as _ctypes
import json as _json
import struct as _struct
import threading as _threading

from tcplib import *  # noqa: F401,F403  (legacy scripts use tcpsrlib.TH_SYN etc.)
from tcplib import TH_ACK, TH_FIN, TH_RST, TH_SYN, etherhdr, iphdr, tcphdr
from tcpexposure import _bridge

__all__ = ["make_segment", "compose_options", "decompose_options", "parse_headers", "parse_ether_header",
           "summarize_pkt", "summarize_ans1", "summarize_ansl", "send_segments", "sendrecv_segments",
           "get_synack", "get_acklist", "get_fin", "get_highest_ack", "get_highest_seq", "is_connection_reset",
           "get_mss_from_tcpopt", "gethostpair", "get_ifname_and_smacaddr", "get_dmacaddr"]

_MAX_PACKET = 65535 + 64
_tls = _threading.local()
_option_cache = {}
_address_cache = {}


def _b():
    return _bridge.get()


def _buf(data, what):
    """bytes for a payload or packet argument; Python 2 scripts hand over str (one char per byte)."""
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        try:
            return data.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError("%s: a str must hold one character per byte (0-255); pass bytes instead" % what) from None
    raise TypeError("%s must be bytes, got %s" % (what, type(data).__name__))


def _address(a, what="address"):
    """A host-order integer from an int or a dotted string (parsed by the C# library)."""
    if isinstance(a, int) and not isinstance(a, bool):
        return a
    if isinstance(a, bytes):
        a = a.decode("latin-1")
    if not isinstance(a, str):
        raise TypeError("%s must be a host-order integer or a dotted string, got %s" % (what, type(a).__name__))
    v = _address_cache.get(a)
    if v is None:
        out = _ctypes.c_uint32()
        raw = a.encode()
        _b().call("ParseAddress", raw, len(raw), _ctypes.byref(out))
        v = out.value
        if len(_address_cache) < 1024:
            _address_cache[a] = v
    return v


def _encode_options(options):
    """The compact option block of BridgeOptions.cs: name, value count, tagged values."""
    if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
        raise TypeError("options must be a sequence of tuples such as (('MSS', 512), ('SACKOK',)), got %s"
                        % type(options).__name__)
    out = bytearray()
    for o in options:
        if isinstance(o, str):  # ('SACKOK') in a script is the string 'SACKOK'
            o = (o,)
        if not isinstance(o, (tuple, list)) or not o:
            raise TypeError("each option must be a tuple starting with its name, got %r" % (o,))
        name = o[0]
        if isinstance(name, int):
            name = str(name)
        if not isinstance(name, str):
            raise TypeError("option name must be a str, got %r" % (name,))
        raw = name.encode("ascii", "replace")
        if len(raw) > 255 or len(o) > 256:
            raise ValueError("option %r is too long" % (name,))
        out.append(len(raw))
        out += raw
        out.append(len(o) - 1)
        for i, v in enumerate(o[1:], 1):
            if isinstance(v, int):
                if not -(1 << 63) <= v < (1 << 64):
                    raise ValueError("Option %s value %d does not fit in 64 bits: %d" % (name, i, v))
                out.append(0)
                out += _struct.pack("<q", v - (1 << 64) if v >= (1 << 63) else v)
            elif isinstance(v, (bytes, bytearray, memoryview)):
                v = bytes(v)
                out.append(1)
                out += _struct.pack("<H", len(v)) + v
            elif isinstance(v, str):
                s = v.encode()
                out.append(2)
                out += _struct.pack("<H", len(s)) + s
            else:
                raise TypeError("Option %s value %d must be an integer, bytes or str, got %s" % (name, i, type(v).__name__))
    return bytes(out)


def compose_options(options):
    """The option bytes for a list of option tuples, NOP-padded to a multiple of 4, at most 40 bytes."""
    enc = _encode_options(options)
    return _b().call("ComposeOptions", enc, len(enc))


def _composed(options):
    try:
        return _option_cache[options]
    except KeyError:
        raw = compose_options(options)
        if len(_option_cache) >= 4096:
            _option_cache.clear()
        _option_cache[options] = raw
        return raw
    except TypeError:  # unhashable (lists inside): compose every time
        return compose_options(options)


_last = [None, b""]  # the last options object make_segment saw and its composed bytes
_REQ = _struct.Struct("<8q3i")  # FastMake.cs request header
_REQ_SIZE = _REQ.size
_REQ_CAP = _REQ_SIZE + 40 + 65536


def _state():
    """This thread's request/output buffers, bound to the C# side once."""
    b = _b()
    req = _ctypes.create_string_buffer(_REQ_CAP)
    out = _ctypes.create_string_buffer(_MAX_PACKET)
    _ctypes.CFUNCTYPE(_ctypes.c_int, _ctypes.c_void_p, _ctypes.c_int, _ctypes.c_void_p, _ctypes.c_int)(
        b.fast_pointer("BindThread"))(_ctypes.addressof(req), _REQ_CAP, _ctypes.addressof(out), _MAX_PACKET)
    # PYFUNCTYPE keeps the GIL: releasing and retaking it would cost more than the call itself.
    make = _ctypes.PYFUNCTYPE(_ctypes.c_int)(b.fast_pointer("MakeSegmentBound"))
    s = _tls.s = (memoryview(req).cast("B"), memoryview(out).cast("B"), make, req, out)
    return s


def make_segment(daddr, saddr, dport, sport, awnd, seq, ack, flags, options=(), payload=None, ipcksum=0):
    """IPv4 + TCP bytes: TOS 0, ID 0x1234, TTL 255, TCP checksum filled in, IP checksum only with ipcksum."""
    if daddr.__class__ is not int:
        daddr = _address(daddr, "daddr")
    if saddr.__class__ is not int:
        saddr = _address(saddr, "saddr")
    if not options:
        opt = b""
    elif options is _last[0]:  # scripts reuse one options tuple: skip hashing it
        opt = _last[1]
    else:
        opt = _composed(options)
        _last[0], _last[1] = options, opt  # holding the object keeps its id from being reused
    if payload is None:
        lp = 0
    else:
        if payload.__class__ is not bytes:
            payload = _buf(payload, "payload")
        lp = len(payload)
        if lp > 65536:
            raise ValueError("payload is %d bytes; an IPv4 packet holds at most 65535" % lp)
    try:
        s = _tls.s
    except AttributeError:
        s = _state()
    req = s[0]
    lo = len(opt)
    try:
        _REQ.pack_into(req, 0, daddr, saddr, dport, sport, awnd, seq, ack, flags, lo, lp, 1 if ipcksum else 0)
    except _struct.error:
        _bad_numbers(daddr=daddr, saddr=saddr, dport=dport, sport=sport, awnd=awnd, seq=seq, ack=ack, flags=flags)
        raise
    if lo:
        req[_REQ_SIZE:_REQ_SIZE + lo] = opt
    if lp:
        req[_REQ_SIZE + lo:_REQ_SIZE + lo + lp] = payload
    n = s[2]()
    if n < 0:
        _bridge.raise_status(-n, _b().call("TakeError"))
    return s[1][:n].tobytes()


def _bad_numbers(**values):
    for name, v in values.items():
        if not isinstance(v, int):
            raise TypeError("make_segment: %s must be an integer, got %s" % (name, type(v).__name__))
        if not -(1 << 63) <= v < (1 << 63):
            raise ValueError("%s must be 0 to 4294967295, got %d." % (name, v))


def decompose_options(data):
    """Option bytes to a list of lists: ['MSS', 512], ['SACKOK', ''], ... (unknown kinds keep their data)."""
    data = _buf(data, "options")
    return [_option_from_json(o) for o in _json.loads(_b().call("DecomposeOptions", data, len(data)))]


def _option_from_json(o):
    return [bytes.fromhex(v["b"]) if isinstance(v, dict) else v for v in o]


def _option_to_json(o):
    if isinstance(o, str):
        return [o]
    return [{"b": bytes(v).hex()} if isinstance(v, (bytes, bytearray, memoryview)) else v for v in o]


def _parsed_to_tuple(d):
    ip = iphdr()
    ip.__dict__.update(d["ip"])
    tcp = tcphdr()
    t = dict(d["tcp"])
    t["option"] = bytes.fromhex(t["option"])
    tcp.__dict__.update(t)
    return ip, tcp, [_option_from_json(o) for o in d["opts"]], bytes.fromhex(d["payload"])


def parse_headers(pkt):
    """(iphdr, tcphdr, options_list, payload) of an IPv4 (or IPv6) + TCP packet; ValueError when it is not one."""
    pkt = _buf(pkt, "pkt")
    return _parsed_to_tuple(_json.loads(_b().call("ParseHeaders", pkt, len(pkt))))


def parse_ether_header(frame):
    """(etherhdr, rest) of an Ethernet frame."""
    frame = _buf(frame, "frame")
    dhost, shost, etype = _json.loads(_b().call("ParseEther", frame, len(frame)))
    return etherhdr(dhost, shost, etype), frame[14:]


def summarize_pkt(pkt):
    """summarize_ans1(parse_headers(pkt)): one tcpdump-like line ending in a newline."""
    pkt = _buf(pkt, "pkt")
    return _b().call("SummarizePkt", pkt, len(pkt)).decode()


def summarize_ans1(ans):
    """The legacy one-line summary of a (iphdr, tcphdr, options[, payload]) tuple."""
    if not isinstance(ans, (tuple, list)) or len(ans) not in (3, 4):
        raise TypeError("summarize_ans1 takes a (iphdr, tcphdr, options[, payload]) tuple, got %r" % (ans,))
    ip, tcp, opts = ans[0], ans[1], ans[2]
    payload = ans[3] if len(ans) == 4 else b""
    try:
        doc = {
            "ip": {k: getattr(ip, k) for k in ("srcaddr", "dstaddr", "length", "hdrlen")},
            "tcp": {k: getattr(tcp, k) for k in ("srcport", "dstport", "seqno", "ackno", "flag", "window", "hdrlen", "checksum")},
            "opts": [_option_to_json(o) for o in (opts or ())],
            "paylen": len(payload) if payload is not None else 0,
        }
        raw = _json.dumps(doc).encode()
    except (AttributeError, TypeError) as e:
        raise TypeError("summarize_ans1 takes a (iphdr, tcphdr, options[, payload]) tuple: %s" % e) from None
    return _b().call("SummarizeAns1", raw, len(raw)).decode()


summarize_ansl = summarize_ans1  # the seed slides' spelling


def _mac(m, what):
    if m is None or m == 0 or m == "":
        return b""
    if isinstance(m, bool):
        raise TypeError("%s must be a MAC string or integer" % what)
    if isinstance(m, int):
        if not 0 <= m < (1 << 48):
            raise ValueError("%s %d is not a 48-bit MAC address" % (what, m))
        return ":".join("%02x" % b for b in m.to_bytes(6, "big")).encode()
    if isinstance(m, bytes):
        return m
    if isinstance(m, str):
        return m.encode()
    raise TypeError("%s must be a MAC string such as 'aa:bb:cc:dd:ee:ff' or an integer, got %s" % (what, type(m).__name__))


def _frame(pkts):
    if isinstance(pkts, (bytes, bytearray, str)):
        pkts = (pkts,)
    out = bytearray()
    for p in pkts:
        p = _buf(p, "each packet")
        out += _struct.pack("<I", len(p)) + p
    return bytes(out)


def _sendrecv(receive, daddr, pkts, timeout, sflags, usepcap, ifname, smacaddr, dmacaddr):
    daddr = _address(daddr, "daddr")
    framed = _frame(pkts)
    if not isinstance(ifname, (str, bytes)):
        raise TypeError("ifname must be a str, got %s" % type(ifname).__name__)
    ifn = ifname.encode() if isinstance(ifname, str) else ifname
    smac = _mac(smacaddr, "smacaddr")
    dmac = _mac(dmacaddr, "dmacaddr")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds, got %s" % type(timeout).__name__)
    return _json.loads(_b().call("SendRecv", 1 if receive else 0, daddr, framed, len(framed), float(timeout), sflags,
                                 1 if usepcap else 0, ifn, len(ifn), smac, len(smac), dmac, len(dmac)))


def send_segments(daddr, pkts, usepcap=0, ifname="", smacaddr=0, dmacaddr=0):
    """Sends the packets (raw IP socket, or libpcap on ifname with usepcap=1); 0 or -1."""
    return _sendrecv(False, daddr, pkts, 0.0, 0, usepcap, ifname, smacaddr, dmacaddr)["err"]


def sendrecv_segments(daddr, pkts, timeout=1.0, sflags=0, usepcap=0, ifname="", smacaddr=0, dmacaddr=0):
    """Sends pkts and collects the replies to pkts[0] for timeout seconds: (answers, err)."""
    r = _sendrecv(True, daddr, pkts, timeout, sflags, usepcap, ifname, smacaddr, dmacaddr)
    return [_parsed_to_tuple(a) for a in r["answers"]], r["err"]


class _Answer(tuple):
    """An (iphdr, tcphdr, options, payload) answer whose attributes are the TCP header's
    (legacy scripts write both ``synack.ackno`` and ``synack[1].ackno``)."""

    def __getattr__(self, name):
        return getattr(tuple.__getitem__(self, 1), name)


def _flags(ans):
    return ans[1].flag


def get_synack(answers):
    """The first answer carrying SYN and ACK, or None."""
    for a in answers or ():
        if _flags(a) & TH_SYN and _flags(a) & TH_ACK:
            return _Answer(a)
    return None


def get_fin(answers):
    """The first answer carrying FIN, or None."""
    for a in answers or ():
        if _flags(a) & TH_FIN:
            return _Answer(a)
    return None


def get_acklist(answers):
    """The ack numbers of answers without SYN, FIN or RST."""
    return [a[1].ackno for a in answers or () if not _flags(a) & (TH_SYN | TH_FIN | TH_RST)]


def _seq_max(values):
    best = None
    for v in values:
        if best is None or 0 < ((v - best) & 0xFFFFFFFF) < 0x80000000:
            best = v
    return best if best is not None else 0


def get_highest_ack(answers):
    """The highest ack number among the answers (sequence-space order), 0 when none."""
    return _seq_max(a[1].ackno for a in answers or () if _flags(a) & TH_ACK)


def get_highest_seq(answers):
    """The highest sequence number among the answers (sequence-space order), 0 when none."""
    return _seq_max(a[1].seqno for a in answers or ())


def is_connection_reset(answers):
    """1 when an answer carries RST, else 0."""
    return 1 if any(_flags(a) & TH_RST for a in answers or ()) else 0


def get_mss_from_tcpopt(options):
    """The MSS value in an options list (from parse_headers), 0 when absent."""
    for o in options or ():
        if len(o) >= 2 and str(o[0]).upper() == "MSS":
            return o[1]
    return 0


def gethostpair(host):
    """(daddr, fqdn, saddr): the target's address, its name, and our source address toward it."""
    if not isinstance(host, str):
        raise TypeError("host must be a str, got %s" % type(host).__name__)
    raw = host.encode()
    daddr, fqdn, saddr = _json.loads(_b().call("GetHostPair", raw, len(raw)))
    return daddr, fqdn, saddr


def get_ifname_and_smacaddr(saddr):
    """(ifname, mac, err) of the interface holding saddr; err -1 when none does."""
    ifname, mac, err = _json.loads(_b().call("GetIfnameAndMac", _address(saddr, "saddr")))
    return ifname, mac, err


def get_dmacaddr(ifname, ip):
    """The next hop's MAC ("aa:bb:..") toward ip out of ifname, resolving it first; None when it does not answer."""
    if not isinstance(ifname, str):
        raise TypeError("ifname must be a str, got %s" % type(ifname).__name__)
    raw = ifname.encode()
    return _json.loads(_b().call("GetDestinationMac", raw, len(raw), _address(ip, "ip")))
