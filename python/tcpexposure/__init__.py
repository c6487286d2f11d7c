"""TcpExposure for new Python scripts: segments as objects, send/receive, the stateless responder.

Everything is done by the C# library in this process (see _bridge.py); the legacy modules
tcplib / tcpsrlib / pcaplib are the same bridge with the old names.

    from tcpexposure import Segment, sendrecv
    syn = Segment("10.0.0.2", "10.0.0.1", 80, 40000, flags="S", seq=1000,
                  options=[("MSS", 1460), ("SACKOK",), ("WSCALE", 7)])
    for reply in sendrecv(syn, timeout=1.0):
        print(reply.summary(), reply.options)
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

__all__ = ["Segment", "send", "sendrecv", "Responder", "rst_guard", "cli_command", "FLAGS"]

FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80, "N": 0x100}


def _flags(value) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return sum(FLAGS[c] for c in value.upper().replace(".", "A"))
        except KeyError as e:
            raise ValueError(f"unknown TCP flag letter {e.args[0]!r} (known: {''.join(FLAGS)})") from None
    raise TypeError(f"flags must be an int or letters such as 'SA', got {type(value).__name__}")


def _dotted(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


@dataclass
class Segment:
    """An IPv4 TCP segment. Addresses are dotted strings (or host-order ints), options legacy tuples."""

    dst: str | int
    src: str | int
    dport: int
    sport: int
    flags: int | str = 0
    seq: int = 0
    ack: int = 0
    window: int = 65535
    options: list = field(default_factory=list)
    payload: bytes = b""
    ip_checksum: bool = True
    # Filled in for parsed segments:
    ttl: int = 255
    ip_id: int = 0x1234
    checksum: int | None = None

    def to_bytes(self) -> bytes:
        """The packet's bytes, encoded by the C# library."""
        import tcpsrlib
        return tcpsrlib.make_segment(self.dst, self.src, self.dport, self.sport, self.window, self.seq, self.ack,
                                     _flags(self.flags), tuple(tuple(o) for o in self.options), self.payload,
                                     1 if self.ip_checksum else 0)

    __bytes__ = to_bytes

    @classmethod
    def parse(cls, packet: bytes) -> "Segment":
        """A segment from IPv4 + TCP bytes (ValueError when they are not)."""
        import tcpsrlib
        return cls.from_legacy(tcpsrlib.parse_headers(packet))

    @classmethod
    def from_legacy(cls, ans) -> "Segment":
        ip, tcp, opts, payload = ans
        return cls(dst=_dotted(ip.dstaddr), src=_dotted(ip.srcaddr), dport=tcp.dstport, sport=tcp.srcport,
                   flags=tcp.flag, seq=tcp.seqno, ack=tcp.ackno, window=tcp.window, options=[tuple(o) for o in opts],
                   payload=payload, ttl=ip.ttl, ip_id=ip.id, checksum=tcp.checksum)

    def summary(self) -> str:
        """The legacy one-line summary (without the newline)."""
        import tcpsrlib
        return tcpsrlib.summarize_pkt(self.to_bytes()).rstrip("\n")

    def reply(self, flags, seq=0, ack=0, **changes) -> "Segment":
        """A segment going the other way (addresses and ports swapped)."""
        return Segment(dst=self.src, src=self.dst, dport=self.sport, sport=self.dport, flags=flags, seq=seq, ack=ack,
                       **changes)


def _daddr(segments) -> int:
    import tcpsrlib
    return tcpsrlib._address(segments[0].dst, "dst")


def send(segments, *, pcap: bool = False, interface: str = "", src_mac=None, dst_mac=None) -> None:
    """Sends one segment or a list; raises OSError (PermissionError without CAP_NET_RAW) on failure."""
    import tcpsrlib
    segs = [segments] if isinstance(segments, Segment) else list(segments)
    r = tcpsrlib._sendrecv(False, _daddr(segs), [s.to_bytes() for s in segs], 0.0, 0, pcap, interface, src_mac, dst_mac)
    if r["err"]:
        raise OSError(r["error"] or "sending failed")


def sendrecv(segments, *, timeout: float = 1.0, stop_at_syn_reply: bool = False, pcap: bool = False,
             interface: str = "", src_mac=None, dst_mac=None) -> list[Segment]:
    """Sends and returns the replies to the first segment (addresses and ports reversed) within timeout."""
    import tcpsrlib
    segs = [segments] if isinstance(segments, Segment) else list(segments)
    r = tcpsrlib._sendrecv(True, _daddr(segs), [s.to_bytes() for s in segs], timeout, 0x02 if stop_at_syn_reply else 0,
                           pcap, interface, src_mac, dst_mac)
    if r["err"]:
        raise OSError(r["error"] or "send/receive failed")
    return [Segment.from_legacy(tcpsrlib._parsed_to_tuple(a)) for a in r["answers"]]


def cli_command() -> list[str]:
    """The argv prefix that runs the built `tcpexposure` command."""
    from . import _bridge
    home = _bridge.find_home()
    return [shutil.which("dotnet") or "dotnet", str(home / "tcpexposure.dll")]


class Responder:
    """The stateless responder (`tcpexposure respond`) as a child process: start(), stop(), or `with`.

    Extra command-line options go in ``args`` (e.g. ["--address", "10.0.0.1", "--port", "80"]);
    ``netns`` runs it inside a network namespace.
    """

    def __init__(self, args=(), netns: str | None = None):
        self.args = list(args)
        self.netns = netns
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 10.0) -> "Responder":
        cmd = cli_command() + ["respond"] + self.args
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        settled = time.monotonic() + min(1.0, ready_timeout)
        # It is up once it has run a moment without exiting (a bad verb or option exits at once).
        while time.monotonic() < settled:
            if self.process.poll() is not None:
                err = self.process.stderr.read().strip()
                self.process = None
                raise RuntimeError(f"`tcpexposure respond` exited at once: {err}")
            time.sleep(0.05)
        return self

    def stop(self) -> int | None:
        p, self.process = self.process, None
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        return p.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class rst_guard:
    """Drops the kernel's RSTs from (address, port) while a script plays TCP there (an iptables rule,
    removed on exit and, after a crash, at the next start). Needs CAP_NET_ADMIN.

        with rst_guard("10.0.0.2", 40000):
            ...
    """

    def __init__(self, address, port: int):
        import tcpsrlib
        self.address = tcpsrlib._address(address, "address")
        self.port = port
        self._id = 0

    def __enter__(self):
        import ctypes
        from . import _bridge
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise TypeError(f"port must be an integer, got {type(self.port).__name__}")
        out = ctypes.c_int64()
        _bridge.get().call("GuardCreate", self.address, self.port, ctypes.byref(out))
        self._id = out.value
        import atexit
        atexit.register(self.__exit__)  # the hosted runtime gets no exit hook of its own
        return self

    def __exit__(self, *exc):
        from . import _bridge
        if self._id:
            _bridge.get().call("GuardDispose", self._id)
            self._id = 0
