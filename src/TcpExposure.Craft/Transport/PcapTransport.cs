using System.Buffers;
using System.Buffers.Binary;
using TcpExposure.Craft.Pcap;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace TcpExposure.Craft.Transport;

/// <summary>Settings of a <see cref="PcapTransport"/>.</summary>
public sealed record PcapTransportOptions
{
    /// <summary>The network namespace (a name under /run/netns) the interface lives in; null: the current one.</summary>
    public string? Namespace { get; init; }
    /// <summary>The interface to capture on and inject into.</summary>
    public required string Interface { get; init; }
    /// <summary>A BPF filter in tcpdump syntax, compiled by libpcap. Default: IP TCP and ICMP of both families.</summary>
    public string Filter { get; init; } = "tcp or icmp or icmp6 or (ip6 and not udp)";
    /// <summary>Our MAC for frames on Ethernet (default: the interface's own).</summary>
    public PhysicalAddress? SourceMac { get; init; }
    /// <summary>The next hop's MAC for frames on Ethernet (required there, except on loopback).</summary>
    public PhysicalAddress? DestinationMac { get; init; }
    /// <summary>Bytes captured per packet.</summary>
    public int SnapLength { get; init; } = 65535;
    /// <summary>libpcap's kernel ring size in bytes.</summary>
    public int BufferBytes { get; init; } = 4 << 20;
    /// <summary>Captured packets held for the reader; more are dropped (and counted).</summary>
    public int QueueCapacity { get; init; } = 8192;
}

/// <summary>
/// libpcap: injects frames (with a link header written here) and captures with a BPF filter compiled
/// by libpcap. Captured frames lose their link header (Ethernet with VLAN tags, raw IP, Linux
/// cooked SLL/SLL2, BSD loopback) so callers see IP packets, as from every transport.
/// </summary>
/// <remarks>
/// Capture is immediate mode (no batching delay), inbound only (pcap_setdirection), read by
/// <c>pcap_next_ex</c> on a dedicated thread into a bounded channel of pooled buffers; disposing
/// breaks the loop with <c>pcap_breakloop</c>. Unlike a raw socket, what is injected goes out
/// byte for byte: a wrong IPv4 header checksum or total length stays wrong.
/// </remarks>
public sealed class PcapTransport : IPacketTransport
{
    private readonly nint _pcap;
    private readonly int _dlt;
    private readonly LinkType _linkType;
    private readonly int _linkHeaderLength;
    private readonly byte[] _sourceMac;
    private readonly byte[] _destinationMac;
    private readonly byte[] _sendBuffer;
    private readonly Channel<Captured> _queue;
    private readonly Thread _reader;
    private volatile bool _closing;
    private long _dropped;
    private int _disposed;

    private readonly record struct Captured(byte[] Buffer, int Length, bool Truncated, DateTimeOffset Timestamp);

    /// <summary>Opens a live capture; throws <see cref="MissingPrivilegeException"/> without CAP_NET_RAW.</summary>
    public PcapTransport(PcapTransportOptions options)
    {
        Interface = options.Interface;
        // libpcap's packet socket and the interface lookups belong to the namespace; the handle keeps it.
        _pcap = NetworkNamespace.Run(options.Namespace, () => Activate(options));
        _sendBuffer = [];
        _sourceMac = _destinationMac = [];
        try
        {
            _dlt = LibPcap.pcap_datalink(_pcap);
            _linkType = ToLinkType(_dlt);
            _linkHeaderLength = SendHeaderLength(_linkType);
            _sourceMac = (options.SourceMac ?? (_linkType == LinkType.Ethernet ? Routes.InterfaceMac(options.Interface, options.Namespace) : PhysicalAddress.None)).GetAddressBytes();
            _destinationMac = options.DestinationMac?.GetAddressBytes() ?? [];
            if (_linkType == LinkType.Ethernet && _destinationMac.Length != 6)
            {
                // Loopback is Ethernet with all-zero addresses; elsewhere the next hop must be known.
                if (_sourceMac.AsSpan().ContainsAnyExcept((byte)0))
                    throw new ArgumentException($"Sending on Ethernet interface '{options.Interface}' needs the next hop's MAC (DestinationMac, or PcapTransport.OpenForAsync to resolve it).");
                _destinationMac = new byte[6];
            }
            _sendBuffer = new byte[Math.Max(0, _linkHeaderLength) + 65536];
        }
        catch
        {
            LibPcap.pcap_close(_pcap);
            throw;
        }
        _queue = Channel.CreateBounded<Captured>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"pcap {options.Interface}" };
        _reader.Start();
    }

    // Runs in the interface's namespace: pcap_activate opens the packet socket and finds the interface there.
    private static unsafe nint Activate(PcapTransportOptions options)
    {
        byte* err = stackalloc byte[LibPcap.ErrorBufferSize];
        err[0] = 0;
        nint pcap = LibPcap.pcap_create(options.Interface, err);
        if (pcap == 0)
            throw new IOException($"libpcap cannot open '{options.Interface}': {Marshal.PtrToStringUTF8((nint)err)}");
        try
        {
            LibPcap.pcap_set_snaplen(pcap, options.SnapLength);
            LibPcap.pcap_set_promisc(pcap, 0);
            LibPcap.pcap_set_timeout(pcap, 100);
            LibPcap.pcap_set_immediate_mode(pcap, 1);
            LibPcap.pcap_set_buffer_size(pcap, options.BufferBytes);
            int status = LibPcap.pcap_activate(pcap);
            if (status < 0)
            {
                string why = status == -1 ? LibPcap.LastError(pcap) : LibPcap.StatusText(status) + ": " + LibPcap.LastError(pcap);
                if (status == LibPcap.ErrorPermissionDenied || why.Contains("Operation not permitted", StringComparison.Ordinal))
                    throw RawSocketTransport.NoRawPrivilege();
                if (status == LibPcap.ErrorNoSuchDevice)
                    throw new ArgumentException($"There is no network interface named '{options.Interface}' ({why}).");
                throw new IOException($"libpcap cannot capture on '{options.Interface}': {why}");
            }
            LibPcap.pcap_setdirection(pcap, LibPcap.DirectionIn);
            SetFilter(pcap, options.Filter);
            return pcap;
        }
        catch
        {
            LibPcap.pcap_close(pcap);
            throw;
        }
    }

    /// <summary>
    /// Opens libpcap on the interface the kernel routes <paramref name="destination"/> through, with
    /// our MAC and the next hop's (resolving it first when the neighbour table lacks it).
    /// </summary>
    public static async Task<PcapTransport> OpenForAsync(IPAddress destination, string? netns = null, string? filter = null, TimeSpan? resolveTimeout = null, CancellationToken cancellationToken = default)
    {
        var route = Routes.Lookup(destination, netns);
        var mac = await Routes.ResolveNextHopMacAsync(route, resolveTimeout ?? TimeSpan.FromSeconds(3), null, cancellationToken).ConfigureAwait(false);
        var options = new PcapTransportOptions { Namespace = netns, Interface = route.Interface, DestinationMac = mac };
        if (filter is not null) options = options with { Filter = filter };
        return new PcapTransport(options);
    }

    /// <summary>The interface captured on.</summary>
    public string Interface { get; }
    /// <summary>The interface's link type (libpcap's DLT_ value mapped to the LINKTYPE_ registry).</summary>
    public LinkType LinkType => _linkType;

    // pcap_datalink returns DLT_ values; they equal the LINKTYPE_ ones except raw IP (DLT_RAW is 12
    // on Linux, 14 on OpenBSD; LINKTYPE_RAW is 101) and DLT_LOOP (108: a BSD loopback family in
    // network byte order; no LINKTYPE here speaks it, so it stays unknown).
    private static LinkType ToLinkType(int dlt) => dlt switch
    {
        12 or 14 => LinkType.Raw,
        _ => (LinkType)(uint)dlt,
    };

    /// <summary>Bytes of link header written before an IP packet; -1 where nothing can be injected.</summary>
    private static int SendHeaderLength(LinkType type) => type switch
    {
        LinkType.Ethernet => EthernetFrame.HeaderLength,
        LinkType.Raw or LinkType.Ipv4 or LinkType.Ipv6 => 0,
        LinkType.Null => 4,
        _ => -1, // SLL/SLL2 are capture-only pseudo headers (the "any" device): nothing can be injected there
    };
    /// <summary>Captured packets dropped because the reader fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private static unsafe void SetFilter(nint pcap, string filter)
    {
        LibPcap.BpfProgram program;
        if (LibPcap.pcap_compile(pcap, &program, filter, 1, 0xFFFFFFFF) != 0)
            throw new ArgumentException($"libpcap cannot compile the filter '{filter}': {LibPcap.LastError(pcap)}");
        try
        {
            if (LibPcap.pcap_setfilter(pcap, &program) != 0)
                throw new IOException($"libpcap cannot set the filter '{filter}': {LibPcap.LastError(pcap)}");
        }
        finally
        {
            LibPcap.pcap_freecode(&program);
        }
    }

    private unsafe void ReadLoop()
    {
        var writer = _queue.Writer;
        Exception? failure = null;
        while (!_closing)
        {
            LibPcap.PacketHeader* header;
            byte* data;
            int rc = LibPcap.pcap_next_ex(_pcap, &header, &data);
            if (rc == 0) continue;      // the 100 ms read timeout: look at _closing again
            if (rc == -2) break;        // pcap_breakloop
            if (rc < 0)
            {
                if (!_closing) failure = new IOException($"libpcap capture on '{Interface}' failed: {LibPcap.LastError(_pcap)}");
                break;
            }
            var frame = new ReadOnlySpan<byte>(data, (int)header->CaptureLength);
            if (!LinkLayer.TryGetIpOffset(_linkType, frame, out int at))
                continue;
            var ip = frame[at..];
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ip.Length);
            ip.CopyTo(buffer);
            var stamp = DateTimeOffset.FromUnixTimeSeconds(header->Seconds).AddTicks(header->Microseconds * 10);
            if (!writer.TryWrite(new Captured(buffer, ip.Length, header->CaptureLength < header->Length, stamp)))
            {
                ArrayPool<byte>.Shared.Return(buffer);
                Interlocked.Increment(ref _dropped);
            }
        }
        writer.TryComplete(failure);
    }

    /// <inheritdoc />
    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Send(packet.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Injects one IP packet behind the link header of the interface. Not thread-safe: one sender at a time.</summary>
    public unsafe void Send(ReadOnlySpan<byte> packet)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_linkHeaderLength < 0)
            throw new InvalidOperationException($"libpcap cannot inject on link type {_linkType} (DLT {_dlt}; a capture-only pseudo header such as the 'any' device's).");
        if (packet.IsEmpty || packet.Length > _sendBuffer.Length - _linkHeaderLength)
            throw new ArgumentException($"A packet of {packet.Length} bytes cannot be injected.", nameof(packet));
        var frame = _sendBuffer.AsSpan(0, _linkHeaderLength + packet.Length);
        switch (_linkType)
        {
            case LinkType.Ethernet:
                EthernetFrame.Write(frame, _destinationMac, _sourceMac, packet);
                break;
            case LinkType.Null:
                BinaryPrimitives.WriteUInt32LittleEndian(frame, (packet[0] >> 4) == 6 ? 10u : 2u); // Linux AF_INET6 / AF_INET, host order
                packet.CopyTo(frame[4..]);
                break;
            default:
                packet.CopyTo(frame);
                break;
        }
        fixed (byte* p = frame)
        {
            if (LibPcap.pcap_inject(_pcap, p, (nuint)frame.Length) < 0)
                throw new IOException($"libpcap cannot inject on '{Interface}': {LibPcap.LastError(_pcap)}");
        }
    }

    /// <inheritdoc />
    public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var c = await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int n = Math.Min(c.Length, buffer.Length);
            c.Buffer.AsSpan(0, n).CopyTo(buffer.Span);
            return new ReceivedPacket(n, c.Timestamp, c.Truncated || n < c.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(c.Buffer);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return ValueTask.CompletedTask;
        _closing = true;
        LibPcap.pcap_breakloop(_pcap);
        _reader.Join();
        LibPcap.pcap_close(_pcap);
        while (_queue.Reader.TryRead(out var c))
            ArrayPool<byte>.Shared.Return(c.Buffer);
        return ValueTask.CompletedTask;
    }
}
