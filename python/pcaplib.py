"""pcaplib: the legacy thin libpcap wrapper, over the same libpcap binding the C# library uses.

    p = pcaplib.pcaplib()
    p.Pcap_open_live("eth0", 65535, 0, 10)
    p.Pcap_compile("tcp port 80", 1, 0); p.Pcap_setfilter()
    p.Pcap_inject(frame)
    rc, hdr, data = p.Pcap_next_ex()     # rc 1 packet, 0 timeout, -1 error, -2 end; hdr (sec, usec, caplen, len)
    p.Pcap_close()
"""
import ctypes as _ctypes
import struct as _struct

from tcpexposure import _bridge

DLT_NULL = 0
DLT_EN10MB = 1
DLT_RAW = 12
DLT_LINUX_SLL = 113

_NEXT = _struct.Struct("<iqqII")


class pcaplib:
    """One live capture. Methods keep the legacy names; failures raise OSError (PermissionError
    without CAP_NET_RAW) with libpcap's message, except the status-returning calls that return -1."""

    def __init__(self):
        self._id = 0
        self.errbuf = ""

    def _handle(self):
        if not self._id:
            raise ValueError("pcap handle is not open: call Pcap_open_live first")
        return self._id

    def Pcap_open_live(self, device, snaplen=65535, promisc=0, to_ms=10):
        """Opens device for capture and injection; returns self (truthy) or raises OSError."""
        if not isinstance(device, str):
            raise TypeError("device must be a str, got %s" % type(device).__name__)
        for name, v in (("snaplen", snaplen), ("promisc", promisc), ("to_ms", to_ms)):
            if not isinstance(v, int):
                raise TypeError("%s must be an integer, got %s" % (name, type(v).__name__))
        if self._id:
            self.Pcap_close()
        raw = device.encode()
        out = _ctypes.c_int64()
        _bridge.get().call("OpenLive", raw, len(raw), snaplen, 1 if promisc else 0, to_ms, _ctypes.byref(out))
        self._id = out.value
        return self

    def Pcap_compile(self, filter, optimize=1, netmask=0):
        """Compiles a BPF filter; 0, or -1 with the reason in self.errbuf."""
        if not isinstance(filter, str):
            raise TypeError("filter must be a str, got %s" % type(filter).__name__)
        raw = filter.encode()
        rc = _ctypes.c_int()
        msg = _bridge.get().call("Compile", self._handle(), raw, len(raw), 1 if optimize else 0, netmask & 0xFFFFFFFF,
                                 _ctypes.byref(rc))
        self.errbuf = msg.decode("utf-8", "replace")
        return rc.value

    def Pcap_setfilter(self):
        """Applies the compiled filter; 0 or -1."""
        rc = _ctypes.c_int()
        _bridge.get().call("SetFilter", self._handle(), _ctypes.byref(rc))
        return rc.value

    def Pcap_inject(self, data):
        """Sends one link-layer frame; the bytes written, or -1."""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes):
            raise TypeError("Pcap_inject takes bytes, got %s" % type(data).__name__)
        rc = _ctypes.c_int()
        _bridge.get().call("Inject", self._handle(), data, len(data), _ctypes.byref(rc))
        return rc.value

    def Pcap_next_ex(self):
        """(rc, (sec, usec, caplen, len), data): rc 1 a packet, 0 the read timeout passed, negative an error."""
        block = _bridge.get().call("NextEx", self._handle())
        rc, sec, usec, caplen, length = _NEXT.unpack_from(block)
        if rc != 1:
            return rc, None, b""
        return rc, (sec, usec, caplen, length), block[_NEXT.size:]

    def Pcap_datalink(self):
        """The link type (DLT_EN10MB = 1, DLT_RAW = 12, ...)."""
        out = _ctypes.c_int()
        _bridge.get().call("Datalink", self._handle(), _ctypes.byref(out))
        return out.value

    datalink = Pcap_datalink

    def Pcap_close(self):
        if self._id:
            _bridge.get().call("Close", self._id)
            self._id = 0

    def __del__(self):
        try:
            self.Pcap_close()
        except Exception:
            pass
