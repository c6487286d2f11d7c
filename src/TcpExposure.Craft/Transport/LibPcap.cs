using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The libpcap calls we use, bound to Debian's <c>libpcap.so.0.8</c> with source-generated
/// P/Invoke. Handles are raw <c>pcap_t*</c>; <see cref="PcapTransport"/> owns one.
/// </summary>
public static unsafe partial class LibPcap
{
    /// <summary>The library file name (Debian's libpcap0.8 package).</summary>
    public const string Library = "libpcap.so.0.8";
    /// <summary>PCAP_ERRBUF_SIZE.</summary>
    public const int ErrorBufferSize = 256;

    /// <summary>struct pcap_pkthdr on LP64 Linux: a 16-byte timeval, then caplen and len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PacketHeader
    {
        public long Seconds;
        public long Microseconds;
        public uint CaptureLength;
        public uint Length;
    }

    /// <summary>struct bpf_program.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgram
    {
        public uint Length;
        public nint Instructions;
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint pcap_create(string? source, byte* errbuf);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint pcap_open_live(string? device, int snaplen, int promisc, int toMs, byte* errbuf);

    [LibraryImport(Library)]
    public static partial int pcap_set_snaplen(nint p, int snaplen);

    [LibraryImport(Library)]
    public static partial int pcap_set_promisc(nint p, int promisc);

    [LibraryImport(Library)]
    public static partial int pcap_set_timeout(nint p, int toMs);

    [LibraryImport(Library)]
    public static partial int pcap_set_immediate_mode(nint p, int immediate);

    [LibraryImport(Library)]
    public static partial int pcap_set_buffer_size(nint p, int bytes);

    [LibraryImport(Library)]
    public static partial int pcap_activate(nint p);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int pcap_compile(nint p, BpfProgram* program, string filter, int optimize, uint netmask);

    [LibraryImport(Library)]
    public static partial int pcap_setfilter(nint p, BpfProgram* program);

    [LibraryImport(Library)]
    public static partial void pcap_freecode(BpfProgram* program);

    [LibraryImport(Library)]
    public static partial int pcap_inject(nint p, byte* buffer, nuint size);

    [LibraryImport(Library)]
    public static partial int pcap_next_ex(nint p, PacketHeader** header, byte** data);

    [LibraryImport(Library)]
    public static partial int pcap_datalink(nint p);

    [LibraryImport(Library)]
    public static partial int pcap_setdirection(nint p, int direction);

    /// <summary>PCAP_D_IN: only packets the interface received.</summary>
    public const int DirectionIn = 1;

    [LibraryImport(Library)]
    public static partial void pcap_breakloop(nint p);

    [LibraryImport(Library)]
    public static partial void pcap_close(nint p);

    [LibraryImport(Library)]
    public static partial byte* pcap_geterr(nint p);

    [LibraryImport(Library)]
    public static partial byte* pcap_statustostr(int error);

    [LibraryImport(Library)]
    public static partial byte* pcap_lib_version();

    /// <summary>PCAP_ERROR_PERM_DENIED.</summary>
    public const int ErrorPermissionDenied = -8;
    /// <summary>PCAP_ERROR_NO_SUCH_DEVICE.</summary>
    public const int ErrorNoSuchDevice = -5;

    /// <summary>The handle's last error message.</summary>
    public static string LastError(nint p) => Marshal.PtrToStringUTF8((nint)pcap_geterr(p)) ?? "unknown libpcap error";

    /// <summary>The text of a pcap_activate status.</summary>
    public static string StatusText(int status) => Marshal.PtrToStringUTF8((nint)pcap_statustostr(status)) ?? $"status {status}";

    /// <summary>libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)".</summary>
    public static string Version => Marshal.PtrToStringUTF8((nint)pcap_lib_version()) ?? "";
}
