using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Responder.Hosting;

/// <summary>
/// The responder's own raw sockets for its batched fast path: one <c>AF_PACKET</c> capture socket
/// (with the same kernel filter as <see cref="RawSocketTransport"/>: incoming IPv4 TCP/ICMP and IPv6
/// only) read through a PACKET_MMAP TPACKET_V3 ring (<see cref="PacketRxRing"/>; with
/// <c>recvmmsg(2)</c> where the kernel refuses the ring), and raw IPv4/IPv6 sockets (IP_HDRINCL)
/// written with <c>sendmmsg(2)</c>. With the ring, answers go out by default on an AF_PACKET socket
/// instead, on the interface the segment came in on and to the link-layer address it came from,
/// with PACKET_QDISC_BYPASS: no route lookup, no netfilter OUTPUT, no neighbour lookup, no qdisc per
/// answer. No receive timestamps are asked for: the responder does not use
/// them, and the per-packet SIOCGSTAMP ioctl was a third of the old loop's system calls.
/// </summary>
public sealed partial class BatchedRawSockets : IDisposable
{
    private const int SolSocket = 1, SoAttachFilter = 26, SoRcvTimeo = 20, SoBindToDevice = 25;
    private const int IpProtoIpv6 = 41, Ipv6HdrIncl = 36;
    private const int SolPacket = 263, PacketQdiscBypass = 20, PacketIgnoreOutgoing = 23;
    private const ushort EthPAll = 0x0003, EthPIp = 0x0800, EthPIpv6 = 0x86DD;

    private readonly Socket _send4;
    private readonly Socket? _send6;
    private readonly Socket _capture;

    // 64 blocks of 128 KiB (8 MiB, as the old receive buffer): a block holds about a thousand
    // SYN frames, and is handed over when full or after RingRetireMs, which bounds the extra
    // delay an answer sees when traffic is light.
    private const int RingBlockSize = 128 << 10, RingBlocks = 64, RingRetireMs = 1;

    private readonly Socket? _link;

    private BatchedRawSockets(Socket send4, Socket? send6, Socket capture, PacketRxRing? ring, Socket? link)
    {
        _send4 = send4;
        _send6 = send6;
        _capture = capture;
        Ring = ring;
        _link = link;
    }

    /// <summary>The AF_PACKET socket answers go out on, back to the sender's link-layer address; -1: none (raw IP sockets only).</summary>
    internal nint LinkHandle => _link?.Handle ?? -1;

    /// <summary>Whether answers go back on the link they came from (AF_PACKET, qdisc bypassed) rather than through raw IP sockets.</summary>
    public bool SendsOnLink => _link is not null;

    /// <summary>The capture socket's receive ring; null when reading with recvmmsg.</summary>
    internal PacketRxRing? Ring { get; }

    /// <summary>Whether packets are read through a TPACKET_V3 ring (false: recvmmsg).</summary>
    public bool UsesRing => Ring is not null;

    internal nint CaptureHandle => _capture.Handle;
    internal nint Send4Handle => _send4.Handle;
    internal nint Send6Handle => _send6?.Handle ?? -1;

    /// <summary>
    /// Opens the sockets in <paramref name="netns"/> (null: the current namespace), bound to
    /// <paramref name="iface"/> when given. Throws <see cref="MissingPrivilegeException"/> without CAP_NET_RAW.
    /// </summary>
    /// <remarks>
    /// With a <paramref name="port"/> (not 0) the kernel filter also drops, for IPv4, what the responder
    /// would ignore anyway: segments to other ports, RSTs, non-first fragments and ICMP. Under a
    /// SYN flood the peer's RSTs to our SYN-ACKs are as many as the SYNs, so this halves the packets
    /// read; those packets then no longer show in the counters' ignore reasons.
    /// </remarks>
    /// <param name="netns">The network namespace (null: the current one).</param>
    /// <param name="iface">Capture and send on this interface only (null: all).</param>
    /// <param name="port">With a port: the IPv4 kernel filter keeps only non-RST TCP to it.</param>
    /// <param name="receiveBufferBytes">The capture socket's buffer when it reads with recvmmsg.</param>
    /// <param name="ring">Read through a TPACKET_V3 ring (false: recvmmsg, the earlier fast path).</param>
    /// <param name="sendOnLink">
    /// With the ring: send each answer on the interface its segment came in on, to the link-layer
    /// address it came from (the path back is the path in), on an AF_PACKET socket that bypasses
    /// the qdisc. False: through raw IP sockets (the kernel's routing, netfilter OUTPUT and
    /// neighbour table decide). Segments without a link-layer sender are answered the raw way.
    /// </param>
    public static BatchedRawSockets Open(string? netns, string? iface = null, ushort port = 0, int receiveBufferBytes = 8 << 20, bool ring = true, bool sendOnLink = true)
        => NetworkNamespace.Run(netns, () => OpenHere(iface, port, receiveBufferBytes, ring, sendOnLink));

    private static unsafe BatchedRawSockets OpenHere(string? iface, ushort port, int receiveBufferBytes, bool useRing, bool sendOnLink)
    {
        Socket? send4 = null, send6 = null, capture = null, link = null;
        PacketRxRing? ring = null;
        try
        {
            send4 = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
            if (iface is not null) BindToDevice(send4, iface);
            try
            {
                send6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Raw);
                send6.SetRawSocketOption(IpProtoIpv6, Ipv6HdrIncl, BitConverter.GetBytes(1));
                if (iface is not null) BindToDevice(send6, iface);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported)
            {
                send6?.Dispose();
                send6 = null; // no IPv6 here: IPv6 answers are counted as send failures
            }
            // Protocol 0: the socket receives nothing until the bind below, so no packet queues up
            // unfiltered before the filter is attached, or on the socket queue before the ring exists
            // (a non-empty queue would keep poll() readable for good).
            capture = new Socket(AddressFamily.Packet, SocketType.Dgram, (ProtocolType)0);
            AttachFilter(capture, port == 0 ? FilterProgram : PortFilter(port));
            // Outgoing packets (every answer we send) are not even cloned for this socket: without
            // this the kernel copies each one to run the filter above, which then drops it.
            // Kernels before 4.20 refuse the option; the filter still drops them there.
            int one = 1;
            setsockopt(capture.Handle, SolPacket, PacketIgnoreOutgoing, &one, sizeof(int));
            if (useRing)
            {
                try
                {
                    ring = PacketRxRing.Create(capture, RingBlockSize, RingBlocks, RingRetireMs);
                }
                catch (SocketException e) when (e.SocketErrorCode != SocketError.AccessDenied)
                {
                    // No TPACKET_V3 or no memory for the ring: the socket still reads with recvmmsg
                    // (the ring version it may have been switched to only matters to rings).
                }
            }
            if (ring is null && receiveBufferBytes > 0)
                capture.ReceiveBufferSize = receiveBufferBytes;
            // A bounded blocking wait so the loop thread sees cancellation within 100 ms when idle.
            Span<byte> tv = stackalloc byte[16];
            tv.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(tv[8..], 100_000);
            capture.SetRawSocketOption(SolSocket, SoRcvTimeo, tv);
            uint index = 0; // every interface
            if (iface is not null)
            {
                index = if_nametoindex(iface);
                if (index == 0)
                    throw new ArgumentException($"There is no network interface named '{iface}'.");
            }
            Span<byte> ll = stackalloc byte[20];
            ll.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(ll, 17); // AF_PACKET
            BinaryPrimitives.WriteUInt16BigEndian(ll[2..], EthPAll);
            BinaryPrimitives.WriteInt32LittleEndian(ll[4..], (int)index);
            if (bind(capture.Handle, ll, ll.Length) != 0)
                throw new SocketException(Marshal.GetLastPInvokeError());
            if (ring is not null && sendOnLink)
            {
                // Protocol 0: a send-only socket, nothing is ever queued to it.
                link = new Socket(AddressFamily.Packet, SocketType.Dgram, (ProtocolType)0);
                int on = 1;
                setsockopt(link.Handle, SolPacket, PacketQdiscBypass, &on, sizeof(int)); // kernels before 3.14: through the qdisc
            }
            return new BatchedRawSockets(send4, send6, capture, ring, link);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            link?.Dispose(); ring?.Dispose(); send4?.Dispose(); send6?.Dispose(); capture?.Dispose();
            throw new MissingPrivilegeException(Capability.NetRaw, Privileges.Message("Sending and capturing raw packets", Capability.NetRaw));
        }
        catch
        {
            link?.Dispose(); ring?.Dispose(); send4?.Dispose(); send6?.Dispose(); capture?.Dispose();
            throw;
        }
    }

    private static void BindToDevice(Socket s, string ifname)
    {
        Span<byte> name = stackalloc byte[16];
        name.Clear();
        int n = System.Text.Encoding.ASCII.GetBytes(ifname, name[..15]);
        s.SetRawSocketOption(SolSocket, SoBindToDevice, name[..(n + 1)]);
    }

    // Same program as RawSocketTransport's: drop outgoing; keep IPv4 TCP (6) or ICMP (1), and all IPv6.
    private static readonly ulong[] FilterProgram =
    [
        Insn(0x20, 0, 0, 0xFFFFF000 + 4),   // 0: A = pkttype (SKF_AD_PKTTYPE)
        Insn(0x15, 6, 0, 4),                // 1: PACKET_OUTGOING -> drop
        Insn(0x20, 0, 0, 0xFFFFF000 + 0),   // 2: A = ethertype (SKF_AD_PROTOCOL)
        Insn(0x15, 1, 0, EthPIp),           // 3: IPv4 -> 5
        Insn(0x15, 4, 3, EthPIpv6),         // 4: IPv6 -> accept, else drop
        Insn(0x30, 0, 0, 9),                // 5: A = IPv4 protocol byte
        Insn(0x15, 2, 0, 6),                // 6: TCP -> accept
        Insn(0x15, 1, 0, 1),                // 7: ICMP -> accept
        Insn(0x06, 0, 0, 0),                // 8: drop
        Insn(0x06, 0, 0, 0x40000),          // 9: accept (up to 256 KiB)
    ];

    // Incoming IPv4 TCP to `port` without RST (first fragments only), and all IPv6.
    private static ulong[] PortFilter(ushort port) =>
    [
        Insn(0x20, 0, 0, 0xFFFFF000 + 4),   // 0: A = pkttype
        Insn(0x15, 13, 0, 4),               // 1: outgoing -> drop
        Insn(0x20, 0, 0, 0xFFFFF000 + 0),   // 2: A = ethertype
        Insn(0x15, 1, 0, EthPIp),           // 3: IPv4 -> 5
        Insn(0x15, 9, 10, EthPIpv6),        // 4: IPv6 -> accept, else drop
        Insn(0x30, 0, 0, 9),                // 5: A = IPv4 protocol byte
        Insn(0x15, 0, 8, 6),                // 6: not TCP -> drop
        Insn(0x28, 0, 0, 6),                // 7: A = flags + fragment offset
        Insn(0x45, 6, 0, 0x1FFF),           // 8: not the first fragment -> drop
        Insn(0xB1, 0, 0, 0),                // 9: X = IPv4 header length
        Insn(0x48, 0, 0, 2),                // 10: A = TCP destination port
        Insn(0x15, 0, 3, port),             // 11: other port -> drop
        Insn(0x50, 0, 0, 13),               // 12: A = TCP flags
        Insn(0x45, 1, 0, 0x04),             // 13: RST -> drop
        Insn(0x06, 0, 0, 0x40000),          // 14: accept
        Insn(0x06, 0, 0, 0),                // 15: drop
    ];

    private static ulong Insn(ushort code, byte jt, byte jf, uint k)
        => code | ((ulong)jt << 16) | ((ulong)jf << 24) | ((ulong)k << 32);

    private static unsafe void AttachFilter(Socket s, ulong[] program)
    {
        fixed (ulong* prog = program)
        {
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)program.Length);
            MemoryMarshal.Write(fprog[8..], (nint)prog);
            s.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial int recvmmsg(nint fd, void* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial int sendmmsg(nint fd, void* messages, uint count, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int setsockopt(nint fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(nint fd, ReadOnlySpan<byte> address, int length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);

    /// <inheritdoc />
    public void Dispose()
    {
        Ring?.Dispose(); // unmapped before the socket that owns it closes
        _capture.Dispose();
        _send4.Dispose();
        _send6?.Dispose();
        _link?.Dispose();
    }
}
