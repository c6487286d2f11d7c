using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Bridge;

/// <summary>
/// The legacy <c>pcaplib</c> class over Craft's libpcap binding. Python holds small integer
/// handles, never libpcap pointers, so a stale or made-up handle is an error, not a crash.
/// </summary>
public static unsafe class PcapExports
{
    private sealed class Capture(nint handle)
    {
        public nint Handle = handle;
        public LibPcap.BpfProgram Program;
        public bool HasProgram;
        public readonly Lock Gate = new();
    }

    private static readonly ConcurrentDictionary<long, Capture> Captures = new();
    private static long _next;

    private static Capture Get(long id) =>
        Captures.TryGetValue(id, out var c) && c.Handle != 0 ? c
            : throw new ArgumentException($"pcap handle {id} is not open (closed already, or never opened).");

    /// <summary>pcap_open_live; the handle goes to <paramref name="id"/>.</summary>
    [UnmanagedCallersOnly]
    public static int OpenLive(byte* device, int deviceLen, int snaplen, int promisc, int toMs, long* id, byte** err, int* errLen)
        => BridgeCall.Run((Device: new BridgeIn(device, deviceLen), Snaplen: snaplen, Promisc: promisc, ToMs: toMs, Id: (nint)id), static a =>
        {
            string dev = a.Device.Text;
            if (!Privileges.Has(Capability.NetRaw))
                throw BridgePrivileges.NoRaw();
            byte* errbuf = stackalloc byte[LibPcap.ErrorBufferSize];
            errbuf[0] = 0;
            nint p = LibPcap.pcap_open_live(dev.Length == 0 ? null : dev, a.Snaplen, a.Promisc, a.ToMs, errbuf);
            if (p == 0)
            {
                string message = Marshal.PtrToStringUTF8((nint)errbuf) ?? "pcap_open_live failed";
                if (message.Contains("ermission", StringComparison.Ordinal))
                    throw BridgePrivileges.NoRaw(message);
                throw new IOException($"pcap_open_live({dev}): {message}");
            }
            long handle = Interlocked.Increment(ref _next);
            Captures[handle] = new Capture(p);
            *(long*)a.Id = handle;
        }, err, errLen);

    /// <summary>pcap_compile into the capture's program slot; returns libpcap's status in <paramref name="rc"/>.</summary>
    [UnmanagedCallersOnly]
    public static int Compile(long id, byte* filter, int filterLen, int optimize, uint netmask, int* rc, byte** err, int* errLen)
        => BridgeCall.Run((Id: id, Filter: new BridgeIn(filter, filterLen), Optimize: optimize, Netmask: netmask, Rc: (nint)rc, Err: (nint)err, ErrLen: (nint)errLen), static a =>
        {
            var c = Get(a.Id);
            int* rc = (int*)a.Rc;
            lock (c.Gate)
            {
                if (c.HasProgram)
                {
                    fixed (LibPcap.BpfProgram* prog = &c.Program)
                        LibPcap.pcap_freecode(prog);
                    c.HasProgram = false;
                }
                fixed (LibPcap.BpfProgram* prog = &c.Program)
                    *rc = LibPcap.pcap_compile(c.Handle, prog, a.Filter.Text, a.Optimize, a.Netmask);
                c.HasProgram = *rc == 0;
                // libpcap's own message for a filter it rejects, with status Ok: the caller reads rc.
                if (*rc != 0)
                    BridgeResult.Put(System.Text.Encoding.UTF8.GetBytes(LibPcap.LastError(c.Handle)), (byte**)a.Err, (int*)a.ErrLen);
            }
        }, err, errLen);

    /// <summary>pcap_setfilter with the last compiled program.</summary>
    [UnmanagedCallersOnly]
    public static int SetFilter(long id, int* rc, byte** err, int* errLen)
        => BridgeCall.Run((Id: id, Rc: (nint)rc), static a =>
        {
            var c = Get(a.Id);
            lock (c.Gate)
            {
                if (!c.HasProgram)
                    throw new InvalidOperationException("Pcap_setfilter needs a successful Pcap_compile first.");
                fixed (LibPcap.BpfProgram* prog = &c.Program)
                    *(int*)a.Rc = LibPcap.pcap_setfilter(c.Handle, prog);
            }
        }, err, errLen);

    /// <summary>pcap_inject; bytes written (or libpcap's -1) in <paramref name="rc"/>.</summary>
    [UnmanagedCallersOnly]
    public static int Inject(long id, byte* data, int len, int* rc, byte** err, int* errLen)
        => BridgeCall.Run((Id: id, Data: (nint)data, Length: len, Rc: (nint)rc),
            static a => *(int*)a.Rc = LibPcap.pcap_inject(Get(a.Id).Handle, (byte*)a.Data, (nuint)a.Length), err, errLen);

    /// <summary>
    /// pcap_next_ex: the block is <c>[i32 rc][i64 sec][i64 usec][u32 caplen][u32 len][data]</c>, little-endian.
    /// </summary>
    [UnmanagedCallersOnly]
    public static int NextEx(long id, byte** result, int* resultLen)
        => BridgeCall.Bytes(id, static id =>
        {
            var c = Get(id);
            LibPcap.PacketHeader* header = null;
            byte* data = null;
            int rc = LibPcap.pcap_next_ex(c.Handle, &header, &data);
            int cap = rc == 1 && header is not null ? (int)header->CaptureLength : 0;
            var block = new byte[28 + cap];
            BinaryPrimitives.WriteInt32LittleEndian(block, rc);
            if (cap > 0 || (rc == 1 && header is not null))
            {
                BinaryPrimitives.WriteInt64LittleEndian(block.AsSpan(4), header->Seconds);
                BinaryPrimitives.WriteInt64LittleEndian(block.AsSpan(12), header->Microseconds);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(20), header->CaptureLength);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(24), header->Length);
                new ReadOnlySpan<byte>(data, cap).CopyTo(block.AsSpan(28));
            }
            return block;
        }, result, resultLen);

    /// <summary>pcap_datalink.</summary>
    [UnmanagedCallersOnly]
    public static int Datalink(long id, int* link, byte** err, int* errLen)
        => BridgeCall.Run((Id: id, Link: (nint)link), static a => *(int*)a.Link = LibPcap.pcap_datalink(Get(a.Id).Handle), err, errLen);

    /// <summary>pcap_close (closing twice is harmless).</summary>
    [UnmanagedCallersOnly]
    public static int Close(long id, byte** err, int* errLen)
        => BridgeCall.Run(id, static id =>
        {
            if (Captures.TryRemove(id, out var c))
                lock (c.Gate)
                {
                    if (c.HasProgram)
                        fixed (LibPcap.BpfProgram* prog = &c.Program)
                            LibPcap.pcap_freecode(prog);
                    LibPcap.pcap_close(c.Handle);
                    c.Handle = 0;
                }
        }, err, errLen);
}
