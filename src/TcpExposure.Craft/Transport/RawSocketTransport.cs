using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>Settings of a <see cref="RawSocketTransport"/>.</summary>
public sealed record RawSocketTransportOptions
{
    /// <summary>The network namespace (a name under /run/netns) to open the sockets in; null: the current one. Sockets stay in it for life.</summary>
    public string? Namespace { get; init; }
    /// <summary>Send and capture only on this interface (SO_BINDTODEVICE, and the packet socket bound to it); null: any.</summary>
    public string? Interface { get; init; }
    /// <summary>Open the capture socket. Off for send-only uses such as a flood, which then never pay for capture.</summary>
    public bool Receive { get; init; } = true;
    /// <summary>Kernel receive buffer of the capture socket in bytes (0 keeps the default).</summary>
    public int ReceiveBufferBytes { get; init; } = 4 << 20;
    /// <summary>
    /// Firewall mark (SO_MARK) on every packet sent, so netfilter rules can tell ours apart (the RST
    /// guard lets packets marked <c>0x7478</c> through). Null leaves packets unmarked. Needs CAP_NET_ADMIN.
    /// </summary>
    public uint? FirewallMark { get; init; }
    /// <summary>Clock used when the kernel gives no receive timestamp.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>
    /// Let the kernel finish TCP checksums and cut TCP super-packets into segments (GSO) for batched
    /// packets (<see cref="IPacketBatchTransport"/>) to peers heard from on Ethernet: they go out
    /// through an AF_PACKET socket with virtio-net headers, past netfilter's OUTPUT chain. Needs <see cref="Receive"/>.
    /// </summary>
    public bool SegmentationOffload { get; init; }
    /// <summary>Packets per batch (one sendmmsg each) for <see cref="IPacketBatchTransport"/>.</summary>
    public int BatchSlots { get; init; } = 64;
}

/// <summary>
/// Raw sockets: sends whole IP packets and captures every IPv4/IPv6 TCP and ICMP packet arriving.
/// </summary>
/// <remarks>
/// <para>Sending. IPv4 goes through <c>socket(AF_INET, SOCK_RAW, IPPROTO_RAW)</c>, which implies
/// IP_HDRINCL: the packet goes out as written except that Linux (raw(7)) always writes the IP
/// header checksum and total length, and fills in the identification and source address when
/// they are 0. A wrong IP checksum or length can therefore only be sent through libpcap
/// (the pcap transport). IPv6 goes through <c>socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)</c>
/// with IPV6_HDRINCL (level 41, option 36) set; the kernel leaves every IPv6 field alone. The
/// destination given to <c>sendto</c> is the packet's own destination address, so routing follows it.</para>
/// <para>Receiving. A raw IPPROTO_TCP socket would show IPv4 with its header but IPv6 without it,
/// and ICMP would need more sockets; so capture is one <c>AF_PACKET</c>/<c>SOCK_DGRAM</c> socket
/// for <c>ETH_P_ALL</c>, which hands over every network-layer packet with the link header already
/// removed, whatever the link type (Ethernet, loopback, tunnels). A classic BPF program attached
/// with SO_ATTACH_FILTER keeps, in the kernel, only incoming IPv4 TCP/ICMP and IPv6 packets, so
/// the process never wakes for the rest and never sees its own outgoing packets. Receive
/// timestamps are the kernel's (SO_TIMESTAMP + SIOCGSTAMP), taken when the packet arrived.</para>
/// <para>Sends are synchronous (a raw send does not block; the kernel drops on a full queue and
/// says ENOBUFS) and may run concurrently with one pending <see cref="ReceiveAsync"/>; two
/// concurrent sends or two concurrent receives are not supported.</para>
/// </remarks>
public sealed class RawSocketTransport : IPacketBatchTransport
{
    private readonly Socket _send4;
    private readonly Socket? _send6;
    private readonly Socket? _capture;
    private readonly Socket? _offload;
    private readonly NeighbourCache? _neighbours;
    private readonly RawPacketBatch _batch;
    private readonly SocketAddress _to4 = new IPEndPoint(IPAddress.Any, 0).Serialize();
    private readonly SocketAddress _to6 = new IPEndPoint(IPAddress.IPv6Any, 0).Serialize();
    // .NET wants room for any address of the family (sockaddr_storage); the kernel writes a 20-byte sockaddr_ll.
    private readonly SocketAddress _from = new(AddressFamily.Packet, 128);
    private readonly TimeProvider _time;
    private readonly Exception? _send6Error;
    private long _sendFailures;

    /// <summary>Opens the sockets; throws <see cref="MissingPrivilegeException"/> without CAP_NET_RAW.</summary>
    public RawSocketTransport(RawSocketTransportOptions? options = null)
    {
        options ??= new RawSocketTransportOptions();
        _time = options.Time;
        Interface = options.Interface;
        (_send4, _send6, _capture, _offload, _send6Error) = NetworkNamespace.Run(options.Namespace, () => Open(options));
        if (_offload is not null && _capture is not null)
            _neighbours = new NeighbourCache(_capture);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSlots, 1);
        // Offload takes super-packets up to the IPv4 maximum; plain packets stay within a jumbo frame.
        _batch = new RawPacketBatch(_send4, _send6, _offload, _neighbours, options.BatchSlots, _offload is null ? 9216 : 65535);
    }

    private static (Socket, Socket?, Socket?, Socket?, Exception?) Open(RawSocketTransportOptions options)
    {
        Socket? send4 = null, send6 = null, capture = null, offload = null;
        Exception? send6Error = null;
        try
        {
            send4 = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
            if (options.Interface is { } ifname)
                BindToDevice(send4, ifname);
            if (options.FirewallMark is { } mark4)
                send4.SetRawSocketOption(Native.SolSocket, Native.SoMark, BitConverter.GetBytes(mark4));
            try
            {
                send6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Raw);
                send6.SetRawSocketOption(Native.IpProtoIpv6, Native.Ipv6HdrIncl, BitConverter.GetBytes(1));
                if (options.Interface is { } ifname6)
                    BindToDevice(send6, ifname6);
                if (options.FirewallMark is { } mark6)
                    send6.SetRawSocketOption(Native.SolSocket, Native.SoMark, BitConverter.GetBytes(mark6));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported)
            {
                send6?.Dispose();
                send6 = null;
                send6Error = e; // no IPv6 in this kernel or namespace: IPv4 still works
            }
            if (options.Receive)
                capture = OpenCapture(options);
            if (options.Receive && options.SegmentationOffload)
                offload = OpenOffload(options);
            return (send4, send6, capture, offload, send6Error);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            send4?.Dispose(); send6?.Dispose(); capture?.Dispose(); offload?.Dispose();
            throw NoRawPrivilege();
        }
        catch
        {
            send4?.Dispose(); send6?.Dispose(); capture?.Dispose(); offload?.Dispose();
            throw;
        }
    }

    // A send-only packet socket (protocol 0: it receives nothing) whose frames start with a
    // virtio_net_hdr: the kernel reads checksum and segmentation requests from it (packet(7)).
    private static Socket OpenOffload(RawSocketTransportOptions options)
    {
        var s = new Socket(AddressFamily.Packet, SocketType.Raw, 0);
        try
        {
            s.SetRawSocketOption(Native.SolPacket, Native.PacketVnetHdr, BitConverter.GetBytes(1));
            s.SendBufferSize = 4 << 20;
            if (options.FirewallMark is { } mark)
                s.SetRawSocketOption(Native.SolSocket, Native.SoMark, BitConverter.GetBytes(mark));
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>The error every transport gives when the kernel refuses a raw or packet socket.</summary>
    internal static MissingPrivilegeException NoRawPrivilege()
        => new(Capability.NetRaw, Privileges.Message("Sending and capturing raw packets", Capability.NetRaw));

    /// <summary>The interface the transport is bound to, or null.</summary>
    public string? Interface { get; }

    /// <summary>The sending sockets (IPv4, and IPv6 when available), e.g. for <see cref="RstGuard.Exempt"/>.</summary>
    public IEnumerable<Socket> SendSockets => _send6 is null ? [_send4] : [_send4, _send6];

    /// <summary>Sends the kernel refused (ENOBUFS on a full queue, for instance) since the transport opened.</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    private static void BindToDevice(Socket s, string ifname)
    {
        if (!NetworkInterfaceName.IsValid(ifname))
            throw new ArgumentException($"'{ifname}' is not an interface name (1 to {NetworkInterfaceName.MaxLength} characters, no '/', ':' or white space).", nameof(ifname));
        Span<byte> name = stackalloc byte[NetworkInterfaceName.MaxLength + 1];
        name.Clear();
        int n = System.Text.Encoding.ASCII.GetBytes(ifname, name[..NetworkInterfaceName.MaxLength]);
        try
        {
            s.SetRawSocketOption(Native.SolSocket, Native.SoBindToDevice, name[..(n + 1)]);
        }
        catch (SocketException e)
        {
            // ENODEV, which .NET reports as an unknown socket error: the name is valid, the interface is not here.
            throw new InvalidOperationException($"Cannot bind to interface '{ifname}': there is no such interface in this network namespace (see `ip link`).", e);
        }
    }

    private static Socket OpenCapture(RawSocketTransportOptions options)
    {
        // The protocol of a packet socket is the EtherType in network byte order.
        var s = new Socket(AddressFamily.Packet, SocketType.Dgram, (ProtocolType)BinaryPrimitives.ReverseEndianness(Native.EthPAll));
        try
        {
            AttachFilter(s);
            s.SetRawSocketOption(Native.SolSocket, Native.SoTimestamp, BitConverter.GetBytes(1));
            if (options.ReceiveBufferBytes > 0)
                s.ReceiveBufferSize = options.ReceiveBufferBytes;
            if (options.Interface is { } ifname)
            {
                uint index = Native.if_nametoindex(ifname);
                if (index == 0)
                    throw new ArgumentException($"There is no network interface named '{ifname}'.");
                s.Bind(new PacketEndPoint((int)index, Native.EthPAll));
            }
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    // Kernel-side filter: drop outgoing packets; keep IPv4 carrying TCP (6) or ICMP (1), and all IPv6
    // (its upper protocol may sit behind extension headers, which cBPF cannot walk cheaply).
    private static readonly ulong[] FilterProgram =
    [
        Insn(0x20, 0, 0, 0xFFFFF000 + 4),   // 0: A = pkttype (SKF_AD_PKTTYPE)
        Insn(0x15, 6, 0, Native.PacketOutgoing), // 1: outgoing -> drop
        Insn(0x20, 0, 0, 0xFFFFF000 + 0),   // 2: A = ethertype (SKF_AD_PROTOCOL)
        Insn(0x15, 1, 0, Native.EthPIp),     // 3: IPv4 -> 5
        Insn(0x15, 4, 3, Native.EthPIpv6),   // 4: IPv6 -> accept, else drop
        Insn(0x30, 0, 0, 9),                 // 5: A = IPv4 protocol byte
        Insn(0x15, 2, 0, 6),                 // 6: TCP -> accept
        Insn(0x15, 1, 0, 1),                 // 7: ICMP -> accept
        Insn(0x06, 0, 0, 0),                 // 8: drop
        Insn(0x06, 0, 0, 0x40000),           // 9: accept (up to 256 KiB)
    ];

    private static ulong Insn(ushort code, byte jt, byte jf, uint k)
        => code | ((ulong)jt << 16) | ((ulong)jf << 24) | ((ulong)k << 32);

    private static unsafe void AttachFilter(Socket s)
    {
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }; the kernel copies the program.
        fixed (ulong* prog = FilterProgram)
        {
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)FilterProgram.Length);
            MemoryMarshal.Write(fprog[8..], (nint)prog);
            s.SetRawSocketOption(Native.SolSocket, Native.SoAttachFilter, fprog);
        }
    }

    /// <inheritdoc />
    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Send(packet.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends one IP packet now; allocates nothing.</summary>
    /// <exception cref="IOException">The kernel refused the packet (a netfilter rule dropped it, no route, too big).</exception>
    public void Send(ReadOnlySpan<byte> packet)
    {
        try
        {
            SendCore(packet);
        }
        catch (SocketException e)
        {
            throw new IOException(e.SocketErrorCode == SocketError.AccessDenied
                ? "The kernel refused to send the packet: a firewall (netfilter) rule dropped it (EPERM)."
                : $"The kernel refused to send the packet: {e.Message}.", e);
        }
    }

    private void SendCore(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 20)
            throw new ArgumentException($"A packet of {packet.Length} bytes is too short to be IP.", nameof(packet));
        int version = packet[0] >> 4;
        if (version == 4)
        {
            packet.Slice(16, 4).CopyTo(_to4.Buffer.Span.Slice(4, 4));
            _send4.SendTo(packet, SocketFlags.None, _to4);
        }
        else if (version == 6)
        {
            if (_send6 is null)
                throw new InvalidOperationException("IPv6 raw sockets are not available here: " + _send6Error?.Message);
            if (packet.Length < 40)
                throw new ArgumentException($"A packet of {packet.Length} bytes is too short to be IPv6.", nameof(packet));
            packet.Slice(24, 16).CopyTo(_to6.Buffer.Span.Slice(8, 16));
            _send6.SendTo(packet, SocketFlags.None, _to6);
        }
        else
        {
            throw new ArgumentException($"The packet's version nibble is {version}; raw sockets send IPv4 or IPv6 only (use the pcap transport for anything else).", nameof(packet));
        }
    }

    /// <summary>
    /// Sends as much as the kernel takes: returns false instead of throwing when the send queue is
    /// full (ENOBUFS) or the kernel refuses the packet, for floods that count losses instead of stopping.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> packet)
    {
        try
        {
            SendCore(packet);
            return true;
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _sendFailures);
            return false;
        }
    }

    /// <inheritdoc />
    public int SlotCapacity => _batch.SlotCapacity;

    /// <inheritdoc />
    public Span<byte> PendingSlot => _batch.PendingSlot;

    /// <summary>Whether <see cref="RawSocketTransportOptions.SegmentationOffload"/> is on (an AF_PACKET socket with virtio-net headers is open).</summary>
    public bool OffloadEnabled => _offload is not null;

    /// <inheritdoc />
    public bool CanOffload(ReadOnlySpan<byte> destination) => _batch.CanOffload(destination);

    /// <inheritdoc />
    public void Commit(int length, bool offload, int segmentSize) => _batch.Commit(length, offload, segmentSize);

    /// <inheritdoc />
    public int Flush()
    {
        int refused = _batch.Flush();
        if (refused > 0)
            Interlocked.Add(ref _sendFailures, refused);
        return refused;
    }

    /// <inheritdoc />
    /// <remarks>One non-blocking <c>recvfrom</c>; the timestamp is the clock's, not the kernel's.</remarks>
    public unsafe bool TryReceive(Span<byte> buffer, out ReceivedPacket packet)
    {
        packet = default;
        var s = _capture ?? throw new InvalidOperationException("This transport was opened without receiving (Receive = false).");
        Span<byte> from = stackalloc byte[32];
        while (true)
        {
            uint fromLength = 32;
            nint n;
            fixed (byte* b = buffer)
            fixed (byte* f = from)
                n = Native.recvfrom(s.Handle, b, (nuint)buffer.Length, Native.MsgDontWait | Native.MsgTrunc, f, &fromLength);
            if (n < 0)
                return false; // EAGAIN: nothing queued (or the socket is closing)
            if (from[10] == Native.PacketOutgoing)
                continue;
            int length = (int)Math.Min(n, buffer.Length);
            _neighbours?.Learn(from, buffer[..length]);
            packet = new ReceivedPacket(length, _time.GetUtcNow(), n > buffer.Length);
            return true;
        }
    }

    /// <summary>A sender of many same-length packets per system call (sendmmsg), for floods.</summary>
    public RawBatchSender CreateBatchSender(ReadOnlySpan<byte> template, int batchSize = 64)
        => new(template[0] >> 4 == 6 ? _send6 ?? throw new InvalidOperationException("IPv6 raw sockets are not available here.") : _send4, template, batchSize);

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var s = _capture ?? throw new InvalidOperationException("This transport was opened without receiving (Receive = false).");
        while (true)
        {
            _from.Size = 128;
            int n = await s.ReceiveFromAsync(buffer, SocketFlags.Truncated, _from, cancellationToken).ConfigureAwait(false);
            var from = _from.Buffer.Span;
            if (from[10] == Native.PacketOutgoing)
                continue;
            _neighbours?.Learn(from, buffer.Span[..Math.Min(n, buffer.Length)]);
            var stamp = KernelTimestamp(s) ?? _time.GetUtcNow();
            bool truncated = n > buffer.Length;
            return new ReceivedPacket(Math.Min(n, buffer.Length), stamp, truncated);
        }
    }

    private static DateTimeOffset? KernelTimestamp(Socket s)
    {
        if (Native.ioctl(s.Handle, Native.SiocGStamp, out var tv) != 0 || tv.Seconds <= 0)
            return null;
        return DateTimeOffset.FromUnixTimeSeconds(tv.Seconds).AddTicks(tv.Microseconds * 10);
    }

    private void DisposeSockets()
    {
        _send4.Dispose();
        _send6?.Dispose();
        _capture?.Dispose();
        _offload?.Dispose();
        _batch.Dispose();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        DisposeSockets();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A <c>sockaddr_ll</c>: binds a packet socket to one interface and EtherType.</summary>
internal sealed class PacketEndPoint(int interfaceIndex, ushort etherType) : EndPoint
{
    public const int Size = 20;
    public override AddressFamily AddressFamily => AddressFamily.Packet;

    public override SocketAddress Serialize()
    {
        var sa = new SocketAddress(AddressFamily.Packet, Size);
        var b = sa.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], etherType);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], interfaceIndex);
        return sa;
    }

    public override EndPoint Create(SocketAddress socketAddress) => this;
}
