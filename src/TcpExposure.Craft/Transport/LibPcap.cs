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
        /// <summary>Capture time, seconds since the epoch.</summary>
        public long Seconds;
        /// <summary>Capture time, microseconds within the second.</summary>
        public long Microseconds;
        /// <summary>Bytes captured (at most the snap length).</summary>
        public uint CaptureLength;
        /// <summary>Bytes the packet had on the wire.</summary>
        public uint Length;
    }

    /// <summary>struct bpf_program.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgram
    {
        /// <summary>Number of BPF instructions.</summary>
        public uint Length;
        /// <summary>Pointer to the instructions (struct bpf_insn*).</summary>
        public nint Instructions;
    }

    /// <summary>pcap_create(3PCAP): a handle for <paramref name="source"/> (an interface name), not yet activated; 0 on error with the message in <paramref name="errbuf"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint pcap_create(string? source, byte* errbuf);

    /// <summary>pcap_open_live(3PCAP): create and activate in one call; 0 on error with the message in <paramref name="errbuf"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint pcap_open_live(string? device, int snaplen, int promisc, int toMs, byte* errbuf);

    /// <summary>pcap_set_snaplen(3PCAP): the most bytes captured per packet.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_snaplen(nint p, int snaplen);

    /// <summary>pcap_set_promisc(3PCAP): nonzero for promiscuous mode.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_promisc(nint p, int promisc);

    /// <summary>pcap_set_timeout(3PCAP): the packet buffer timeout in milliseconds.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_timeout(nint p, int toMs);

    /// <summary>pcap_set_immediate_mode(3PCAP): nonzero to deliver each packet at once rather than per buffer.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_immediate_mode(nint p, int immediate);

    /// <summary>pcap_set_buffer_size(3PCAP): the kernel capture buffer in bytes.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_buffer_size(nint p, int bytes);

    /// <summary>pcap_activate(3PCAP): starts capture; 0 on success, a warning above 0, an error below.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_activate(nint p);

    /// <summary>pcap_compile(3PCAP): compiles a filter expression into <paramref name="program"/>; -1 on error.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int pcap_compile(nint p, BpfProgram* program, string filter, int optimize, uint netmask);

    /// <summary>pcap_setfilter(3PCAP): attaches a compiled filter; -1 on error.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_setfilter(nint p, BpfProgram* program);

    /// <summary>pcap_freecode(3PCAP): frees a compiled filter's instructions.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_freecode(BpfProgram* program);

    /// <summary>pcap_inject(3PCAP): sends a link-layer frame; bytes sent, or -1 on error.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_inject(nint p, byte* buffer, nuint size);

    /// <summary>pcap_next_ex(3PCAP): the next packet; 1 read, 0 timeout, -1 error, -2 after pcap_breakloop.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_next_ex(nint p, PacketHeader** header, byte** data);

    /// <summary>pcap_datalink(3PCAP): the link-layer type (DLT_EN10MB is 1).</summary>
    [LibraryImport(Library)]
    public static partial int pcap_datalink(nint p);

    /// <summary>pcap_setdirection(3PCAP): which direction to capture (see <see cref="DirectionIn"/>).</summary>
    [LibraryImport(Library)]
    public static partial int pcap_setdirection(nint p, int direction);

    /// <summary>PCAP_D_IN: only packets the interface received.</summary>
    public const int DirectionIn = 1;

    /// <summary>pcap_breakloop(3PCAP): makes a blocked read return -2.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_breakloop(nint p);

    /// <summary>pcap_close(3PCAP): closes the handle.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_close(nint p);

    /// <summary>pcap_geterr(3PCAP): the handle's last error, a C string owned by libpcap.</summary>
    [LibraryImport(Library)]
    public static partial byte* pcap_geterr(nint p);

    /// <summary>pcap_statustostr(3PCAP): the text of a status code, a C string owned by libpcap.</summary>
    [LibraryImport(Library)]
    public static partial byte* pcap_statustostr(int error);

    /// <summary>pcap_lib_version(3PCAP): the version string, a C string owned by libpcap.</summary>
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
