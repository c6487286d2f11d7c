"""Loads the .NET runtime in-process and binds the C# bridge entry points (no pythonnet needed).

The path is the one pythonnet's loader takes: ctypes -> libhostfxr.so ->
hostfxr_initialize_for_runtime_config(tcpexposure.runtimeconfig.json) ->
hostfxr_get_runtime_delegate(load_assembly_and_get_function_pointer) ->
[UnmanagedCallersOnly] methods in src/TcpExposure.Tool/Bridge. Every entry point returns a status;
non-zero statuses become the Python exception below, carrying the C# message.
"""
from __future__ import annotations

import ctypes
import glob
import os
import shutil
import subprocess
import threading
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_ASSEMBLY = "tcpexposure.dll"
_PROTOCOL = 1

# Keep in step with BridgeStatus.cs.
_ERRORS = {1: TypeError, 2: ValueError, 3: OSError, 4: PermissionError, 5: RuntimeError}
BUFFER_TOO_SMALL = 6

_lock = threading.Lock()
_bridge = None


class BridgeError(RuntimeError):
    """The bridge could not start (no .NET runtime, or the C# library is not built)."""


def find_home() -> Path:
    """The directory with tcpexposure.dll: $TCPEXPOSURE_HOME (that directory or a repository root), else this repository's build."""
    home = os.environ.get("TCPEXPOSURE_HOME")
    if home:  # an explicit home is the only place looked at
        h = Path(home)
        candidates = [h] + [h / "src/TcpExposure.Tool/bin" / c / "net10.0" for c in ("Release", "Debug")]
    else:
        candidates = [_REPO / "src/TcpExposure.Tool/bin" / c / "net10.0" for c in ("Release", "Debug")]
    built = [c for c in candidates if (c / _ASSEMBLY).is_file() and (c / "tcpexposure.runtimeconfig.json").is_file()]
    if not built:
        raise BridgeError(
            "The C# library is not built (no tcpexposure.dll under "
            + (f"$TCPEXPOSURE_HOME={home}" if home else f"{_REPO}/src/TcpExposure.Tool/bin/{{Release,Debug}}/net10.0")
            + "): run scripts/setup.sh "
            "(or `dotnet build src/TcpExposure.Tool`), or point TCPEXPOSURE_HOME at a build.")
    if home and built[0] == candidates[0]:
        return built[0]
    # Both configurations built: take the newer one, it is what the developer last built.
    return max(built, key=lambda c: (c / _ASSEMBLY).stat().st_mtime)


def _dotnet_roots():
    if os.environ.get("DOTNET_ROOT"):
        yield Path(os.environ["DOTNET_ROOT"])
    exe = shutil.which("dotnet")
    if exe:
        yield Path(os.path.realpath(exe)).parent
    yield Path("/usr/share/dotnet")
    yield Path("/usr/lib/dotnet")
    yield Path.home() / ".dotnet"


def _version_key(path: str):
    name = Path(path).parent.name
    return tuple(int(p) if p.isdigit() else 0 for p in name.replace("-", ".").split("."))


def find_hostfxr() -> Path:
    """libhostfxr.so of the newest host/fxr version under the first dotnet root that has one."""
    for root in _dotnet_roots():
        found = glob.glob(str(root / "host/fxr/*/libhostfxr.so"))
        if found:
            return Path(max(found, key=_version_key))
    # Last resort (slow: starts a process): ask the dotnet on PATH where its runtimes are.
    try:
        out = subprocess.run(["dotnet", "--list-runtimes"], capture_output=True, text=True, timeout=20).stdout
        for line in out.splitlines():
            if "[" in line:
                root = Path(line.split("[", 1)[1].rstrip("]")).parents[1]
                found = glob.glob(str(root / "host/fxr/*/libhostfxr.so"))
                if found:
                    return Path(max(found, key=_version_key))
    except (OSError, subprocess.SubprocessError):
        pass
    raise BridgeError("No .NET runtime found (libhostfxr.so under $DOTNET_ROOT, /usr/share/dotnet, /usr/lib/dotnet "
                      "or ~/.dotnet): run scripts/setup.sh, or set DOTNET_ROOT.")


_P = ctypes.POINTER
_c = ctypes
_OUT = (_P(_c.c_void_p), _P(_c.c_int))
_I64 = _c.c_int64
# name -> (class, argument types); every entry point returns an int status.
_SIGNATURES = {
    "Version": ("BridgeExports", ()),
    "TakeError": ("FastMake", _OUT),
    "ComposeOptions": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "DecomposeOptions": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "ParseHeaders": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "SummarizePkt": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "SummarizeAns1": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "ParseEther": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "ParseAddress": ("BridgeExports", (_c.c_char_p, _c.c_int, _P(_c.c_uint32)) + _OUT),
    "SendRecv": ("BridgeExports", (_c.c_int, _I64, _c.c_char_p, _c.c_int, _c.c_double, _I64, _c.c_int,
                                   _c.c_char_p, _c.c_int, _c.c_char_p, _c.c_int, _c.c_char_p, _c.c_int) + _OUT),
    "GetHostPair": ("BridgeExports", (_c.c_char_p, _c.c_int) + _OUT),
    "GetIfnameAndMac": ("BridgeExports", (_I64,) + _OUT),
    "GetDestinationMac": ("BridgeExports", (_c.c_char_p, _c.c_int, _I64) + _OUT),
    "GuardCreate": ("BridgeExports", (_I64, _I64, _P(_I64)) + _OUT),
    "GuardDispose": ("BridgeExports", (_I64,) + _OUT),
    "OpenLive": ("PcapExports", (_c.c_char_p, _c.c_int, _c.c_int, _c.c_int, _c.c_int, _P(_I64)) + _OUT),
    "Compile": ("PcapExports", (_I64, _c.c_char_p, _c.c_int, _c.c_int, _c.c_uint32, _P(_c.c_int)) + _OUT),
    "SetFilter": ("PcapExports", (_I64, _P(_c.c_int)) + _OUT),
    "Inject": ("PcapExports", (_I64, _c.c_char_p, _c.c_int, _P(_c.c_int)) + _OUT),
    "NextEx": ("PcapExports", (_I64,) + _OUT),
    "Datalink": ("PcapExports", (_I64, _P(_c.c_int)) + _OUT),
    "Close": ("PcapExports", (_I64,) + _OUT),
}


class Bridge:
    """The loaded runtime and the bound entry points (one per process)."""

    def __init__(self):
        self.home = find_home()
        self.hostfxr_path = find_hostfxr()
        fxr = ctypes.CDLL(str(self.hostfxr_path))
        messages: list[str] = []
        writer_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
        self._writer = writer_type(lambda m: messages.append(m.decode("utf-8", "replace")))
        fxr.hostfxr_set_error_writer.restype = ctypes.c_void_p
        fxr.hostfxr_set_error_writer.argtypes = [writer_type]
        fxr.hostfxr_set_error_writer(self._writer)
        fxr.hostfxr_initialize_for_runtime_config.restype = ctypes.c_int32
        fxr.hostfxr_initialize_for_runtime_config.argtypes = [ctypes.c_char_p, ctypes.c_void_p, _P(ctypes.c_void_p)]
        fxr.hostfxr_get_runtime_delegate.restype = ctypes.c_int32
        fxr.hostfxr_get_runtime_delegate.argtypes = [ctypes.c_void_p, ctypes.c_int, _P(ctypes.c_void_p)]
        fxr.hostfxr_close.argtypes = [ctypes.c_void_p]
        config = str(self.home / "tcpexposure.runtimeconfig.json").encode()
        handle = ctypes.c_void_p()
        rc = fxr.hostfxr_initialize_for_runtime_config(config, None, ctypes.byref(handle))
        if rc < 0 or rc > 2 or not handle:
            raise BridgeError(f"hostfxr_initialize_for_runtime_config failed (0x{rc & 0xFFFFFFFF:08x}) for {config.decode()}: "
                              + (" ".join(messages).strip() or "no message") + " — run scripts/setup.sh.")
        load = ctypes.c_void_p()
        HDT_LOAD_ASSEMBLY_AND_GET_FUNCTION_POINTER = 5
        rc = fxr.hostfxr_get_runtime_delegate(handle, HDT_LOAD_ASSEMBLY_AND_GET_FUNCTION_POINTER, ctypes.byref(load))
        fxr.hostfxr_close(handle)
        if rc != 0 or not load:
            raise BridgeError(f"hostfxr_get_runtime_delegate failed (0x{rc & 0xFFFFFFFF:08x}): {' '.join(messages).strip()}")
        self._load = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                                      ctypes.c_void_p, _P(ctypes.c_void_p))(load.value)
        self._assembly = str(self.home / _ASSEMBLY).encode()
        self.free = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self._pointer("BridgeExports", "Free"))
        if self.Version() != _PROTOCOL:
            raise BridgeError(f"The C# bridge in {self.home} speaks protocol {self.Version()}, these modules {_PROTOCOL}: "
                              "rebuild with scripts/setup.sh.")

    def _pointer(self, cls: str, method: str) -> int:
        fn = ctypes.c_void_p()
        UNMANAGEDCALLERSONLY_METHOD = ctypes.c_void_p(-1)
        rc = self._load(self._assembly, f"TcpExposure.Tool.Bridge.{cls}, tcpexposure".encode(), method.encode(),
                        UNMANAGEDCALLERSONLY_METHOD, None, ctypes.byref(fn))
        if rc != 0 or not fn.value:
            raise BridgeError(f"Entry point {cls}.{method} not found in {self._assembly.decode()} (0x{rc & 0xFFFFFFFF:08x}): "
                              "the build is stale; run scripts/setup.sh.")
        return fn.value

    def __getattr__(self, name: str):
        """Binds an entry point on first use (start-up pays only for what a script calls)."""
        sig = _SIGNATURES.get(name)
        if sig is None:
            raise AttributeError(name)
        fn = ctypes.CFUNCTYPE(ctypes.c_int, *sig[1])(self._pointer(sig[0], name))
        setattr(self, name, fn)
        return fn

    def fast_pointer(self, method: str) -> int:
        """An entry point of FastMake (make_segment's hot path binds its own prototypes)."""
        return self._pointer("FastMake", method)

    def take(self, ptr: ctypes.c_void_p, length: ctypes.c_int) -> bytes:
        """Copies and frees a block the C# side handed out."""
        if not ptr.value:
            return b""
        try:
            return ctypes.string_at(ptr.value, length.value)
        finally:
            self.free(ptr.value)
            ptr.value = None

    def call(self, name: str, *args) -> bytes:
        """Calls an entry point whose last two parameters are (out, outLen); returns the block or raises."""
        out = ctypes.c_void_p()
        out_len = ctypes.c_int()
        try:
            status = getattr(self, name)(*args, ctypes.byref(out), ctypes.byref(out_len))
        except ctypes.ArgumentError as e:
            raise TypeError(f"{name}: {e}") from None
        data = self.take(out, out_len)
        if status:
            raise_status(status, data)
        return data


def raise_status(status: int, message: bytes):
    raise _ERRORS.get(status, RuntimeError)(message.decode("utf-8", "replace") or f"bridge status {status}")


def get() -> Bridge:
    """The process's bridge, started on first use (about 65 ms)."""
    global _bridge
    b = _bridge
    if b is None:
        with _lock:
            if _bridge is None:
                _bridge = Bridge()
            b = _bridge
    return b
