using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>Settings of a <see cref="TcpStack"/>.</summary>
public sealed record TcpStackOptions
{
    /// <summary>Settings every connection starts with.</summary>
    public TcpConfig Connection { get; init; } = new();
    /// <summary>
    /// Answer segments for unknown connections on ports we do not listen on with RST (RFC 9293
    /// "CLOSED" handling). Off when the kernel shares the address and answers for its own ports.
    /// </summary>
    public bool ResetUnknownConnections { get; init; } = true;
    /// <summary>Drop packets whose TCP checksum is wrong (off for transports that see offloaded checksums).</summary>
    public bool VerifyChecksums { get; init; } = true;
    /// <summary>First port of the ephemeral range that Connect picks local ports from.</summary>
    public ushort EphemeralPortFirst { get; init; } = 49152;
    /// <summary>Last port of the ephemeral range (inclusive).</summary>
    public ushort EphemeralPortLast { get; init; } = 65535;
}

/// <summary>Totals over the stack's lifetime (a snapshot from <see cref="TcpStack.Statistics"/>).</summary>
/// <param name="Connections">Connections that completed their handshake, passive or active, counted at that moment.</param>
/// <param name="Retransmissions">Segments retransmitted, over every connection.</param>
/// <param name="SegmentsSent">Segments emitted by connections, of every kind.</param>
/// <param name="SegmentsReceived">Segments handed to connections.</param>
/// <param name="BytesSent">Application bytes acknowledged by peers.</param>
/// <param name="BytesReceived">Application bytes received in order.</param>
/// <param name="PacketsDropped">Packets dropped by the stack: bad TCP checksums, and segments sent after the transport closed.</param>
/// <param name="ListenOverflows">SYNs dropped because the listener's backlog was full (the client retries, as with Linux).</param>
public readonly record struct TcpStackStatistics(
    long Connections, long Retransmissions, long SegmentsSent, long SegmentsReceived,
    long BytesSent, long BytesReceived, long PacketsDropped, long ListenOverflows);

/// <summary>One row of <see cref="TcpStack.Sockets"/>.</summary>
/// <param name="Id">The listener's or socket's stack-wide number.</param>
/// <param name="Local">Local address and port.</param>
/// <param name="Remote">The peer's address and port; null for a listener.</param>
/// <param name="State">The RFC 9293 state (<see cref="TcpState.Listen"/> for a listener).</param>
public readonly record struct TcpSocketInfo(int Id, IPEndPoint Local, IPEndPoint? Remote, TcpState State);

/// <summary>
/// A user-space TCP over an <see cref="IPacketTransport"/>: one 4-tuple table, listeners with a
/// backlog, any number of connections. One receive loop hands each packet to its connection; one
/// timer (from the injected <see cref="TimeProvider"/>) fires at the earliest connection deadline;
/// one send loop drains the packets connections emit. No thread sleeps or spins anywhere, so the
/// whole stack runs on a virtual clock in tests.
/// </summary>
public sealed class TcpStack : IAsyncDisposable
{
    internal readonly object Gate = new();
    private readonly IPacketTransport _transport;
    private readonly TimeProvider _time;
    private readonly long _epoch;
    private readonly byte[] _localAddress;
    private readonly TcpStackOptions _options;
    private readonly Dictionary<ConnectionKey, Entry> _table = [];
    private readonly List<Entry> _due = []; // OnTimer's scratch list
    private readonly Dictionary<ushort, TcpListener> _listeners = [];
    private readonly Channel<(byte[] Buffer, int Length)> _outgoing =
        Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true });
    // On a batching transport: segments go straight into its packet slots, and a flush sends them.
    private readonly BatchedOutput? _batched;
    private readonly Channel<byte> _flushRequests =
        Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private bool _flushRequested;
    /// <summary>Packets handled per receive before the output is flushed.</summary>
    private const int ReceiveBurst = 64;
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _stop = new();
    private TimeSpan? _armedFor;
    private Task? _receiveLoop, _sendLoop;
    private int _nextSocketId = 1;
    private ushort _nextEphemeral;

    // Totals of connections already gone.
    private long _connections, _retransmissions, _segmentsSent, _segmentsReceived, _bytesSent, _bytesReceived;
    private long _dropped, _listenOverflows;

    /// <summary>A stack on <paramref name="transport"/> owning TCP for <paramref name="localAddress"/>. Call <see cref="Start"/>.</summary>
    public TcpStack(IPacketTransport transport, IPAddress localAddress, TcpStackOptions? options = null, TimeProvider? time = null)
    {
        _transport = transport;
        _time = time ?? TimeProvider.System;
        _epoch = _time.GetTimestamp();
        LocalAddress = localAddress;
        _localAddress = localAddress.GetAddressBytes();
        _options = options ?? new TcpStackOptions();
        _nextEphemeral = (ushort)Random.Shared.Next(_options.EphemeralPortFirst, _options.EphemeralPortLast + 1);
        _timer = _time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (transport is IPacketBatchTransport batching)
            _batched = new BatchedOutput(batching);
    }

    /// <summary>The address this stack owns TCP for: source of every segment it sends, destination of those it accepts.</summary>
    public IPAddress LocalAddress { get; }
    /// <summary>The settings the stack was created with (defaults when none were given).</summary>
    public TcpStackOptions Options => _options;
    internal TimeSpan Now => _time.GetElapsedTime(_epoch);

    /// <summary>Set (under <see cref="Gate"/>) when disposal starts: socket waits then throw instead of waiting for ever.</summary>
    internal bool IsDisposed { get; private set; }

    /// <summary>Starts the receive and send loops.</summary>
    public void Start()
    {
        if (_receiveLoop is not null)
            return;
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_stop.Token));
        _sendLoop = Task.Run(() => SendLoopAsync(_stop.Token));
    }

    /// <summary>Passive open on <paramref name="port"/>: SYNs to it create connections, up to <paramref name="backlog"/> not yet accepted.</summary>
    public TcpListener Listen(ushort port, int backlog = 128)
    {
        lock (Gate)
        {
            if (_listeners.ContainsKey(port))
                throw new InvalidOperationException($"Port {port} already has a listener.");
            var l = new TcpListener(this, _nextSocketId++, new IPEndPoint(LocalAddress, port), backlog);
            _listeners.Add(port, l);
            return l;
        }
    }

    /// <summary>Active open to <paramref name="remote"/>; completes once ESTABLISHED.</summary>
    /// <exception cref="ConnectionRefusedException">The peer answered with RST.</exception>
    /// <exception cref="ConnectionTimedOutException">No answer within the user timeout.</exception>
    public async Task<TcpSocket> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        if (remote.AddressFamily != LocalAddress.AddressFamily)
            throw new ArgumentException($"{remote} is not of the stack's address family ({LocalAddress}).", nameof(remote));
        TcpSocket socket;
        lock (Gate)
        {
            ushort port = AllocatePort(remote);
            var key = new ConnectionKey(ConnectionKey.Addr(_localAddress), port, ConnectionKey.Addr(remote.Address.GetAddressBytes()), (ushort)remote.Port);
            var entry = CreateEntry(key, new IPEndPoint(LocalAddress, port), remote, null);
            socket = entry.Socket;
            entry.Connection.Connect(Now);
            ArmTimer();
        }
        try
        {
            await socket.WaitAsync(c => c.IsSynchronized || c.State == TcpState.Closed, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            socket.Abort();
            throw;
        }
        lock (Gate)
        {
            if (socket.Connection.State == TcpState.Closed)
                throw TcpSocketException.For(socket.Connection.Error == TcpError.None ? TcpError.ConnectionRefused : socket.Connection.Error, remote, socket.Connection.Config);
        }
        return socket;
    }

    /// <summary>Blocking <see cref="ConnectAsync"/>.</summary>
    public TcpSocket Connect(IPEndPoint remote) => ConnectAsync(remote).GetAwaiter().GetResult();

    /// <summary>Every listener and connection, for a socket table like the seed's <c>ls</c>.</summary>
    public IReadOnlyList<TcpSocketInfo> Sockets
    {
        get
        {
            lock (Gate)
            {
                var list = new List<TcpSocketInfo>();
                foreach (var l in _listeners.Values)
                    list.Add(new TcpSocketInfo(l.Id, l.LocalEndPoint, null, TcpState.Listen));
                foreach (var e in _table.Values)
                    list.Add(new TcpSocketInfo(e.Socket.Id, e.Socket.LocalEndPoint, e.Socket.RemoteEndPoint, e.Connection.State));
                list.Sort((a, b) => a.Id.CompareTo(b.Id));
                return list;
            }
        }
    }

    /// <summary>Totals over every connection, live and gone.</summary>
    public TcpStackStatistics Statistics
    {
        get
        {
            lock (Gate)
            {
                long r = _retransmissions, ss = _segmentsSent, sr = _segmentsReceived, bs = _bytesSent, br = _bytesReceived;
                foreach (var e in _table.Values)
                {
                    var c = e.Connection;
                    r += c.Retransmissions; ss += c.SegmentsSent; sr += c.SegmentsReceived;
                    bs += c.BytesAcknowledged; br += c.BytesReceived;
                }
                return new TcpStackStatistics(_connections, r, ss, sr, bs, br, _dropped, _listenOverflows);
            }
        }
    }

    /// <summary>
    /// Segments that left inside TCP super-packets for the kernel to cut (segmentation offload), not
    /// counting the first of each: 0 on transports that do not offload.
    /// </summary>
    public long SegmentsMerged
    {
        get { lock (Gate) return _batched?.Merged ?? 0; }
    }

    /// <summary>Connections in the table (all states but CLOSED).</summary>
    public int ConnectionCount
    {
        get { lock (Gate) return _table.Count; }
    }

    // ---------------------------------------------------------------- loops

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        var buffer = new byte[65536 + 128];
        while (!ct.IsCancellationRequested)
        {
            ReceivedPacket packet;
            try
            {
                packet = await _transport.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            catch (ChannelClosedException) { break; }
            catch (ObjectDisposedException) { break; }
            lock (Gate)
            {
                _flushRequested = true; // this section flushes at its end: no wake-up for the flush loop
                HandlePacket(buffer.AsSpan(0, packet.Length));
                // Whatever else already arrived (a burst of ACKs) is handled before anything is
                // sent, so the answer is one batch, not one per packet.
                if (_batched is not null && _transport is IPacketBatchTransport batching)
                    try
                    {
                        for (int i = 0; i < ReceiveBurst && batching.TryReceive(buffer, out packet); i++)
                            HandlePacket(buffer.AsSpan(0, packet.Length));
                    }
                    catch (ObjectDisposedException) { } // closing: the next ReceiveAsync ends the loop
                ArmTimer();
                FlushOutput();
            }
        }
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        if (_batched is not null)
        {
            await FlushLoopAsync(ct).ConfigureAwait(false);
            return;
        }
        try
        {
            await foreach (var (buf, len) in _outgoing.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await _transport.SendAsync(buf.AsMemory(0, len), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) { throw; }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    // A local drop (iptables DROP gives EPERM on raw sockets) is loss; TCP recovers.
                    Interlocked.Increment(ref _dropped);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buf);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    // Sends what the sockets' calls (Write, Close, reads that open the window) queued: they run on
    // the application's threads and only ask for a flush; one flush per burst of such calls.
    private async Task FlushLoopAsync(CancellationToken ct)
    {
        try
        {
            // No token: a cancelable wait allocates each time; DisposeAsync completes the channel instead.
            while (await _flushRequests.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                _flushRequests.Reader.TryRead(out _);
                if (ct.IsCancellationRequested)
                    break;
                lock (Gate)
                    FlushOutput();
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Sends the batched output now. Caller holds <see cref="Gate"/>.</summary>
    private void FlushOutput()
    {
        if (_batched is null)
            return;
        _flushRequested = false;
        try
        {
            _dropped += _batched.Flush();
        }
        catch (ObjectDisposedException) { } // the transport closed under a late timer
    }

    private void OnTimer()
    {
        lock (Gate)
        {
            _flushRequested = true; // flushed at the end of this section
            _armedFor = null;
            var now = Now;
            // Collected first because AfterEvent may remove an entry from the table; the list is
            // reused (Gate is held) so a firing allocates nothing.
            foreach (var e in _table.Values)
                if (e.Connection.NextDeadline is { } d && d <= now)
                    _due.Add(e);
            try
            {
                foreach (var e in _due)
                {
                    e.Connection.Poll(now);
                    AfterEvent(e);
                }
            }
            finally
            {
                _due.Clear();
            }
            ArmTimer();
            FlushOutput();
        }
    }

    private static readonly TimeSpan MinTimerDue = TimeSpan.FromMilliseconds(1);

    /// <summary>Points the timer at the earliest connection deadline. Caller holds <see cref="Gate"/>.</summary>
    internal void ArmTimer()
    {
        TimeSpan? earliest = null;
        foreach (var e in _table.Values)
            if (e.Connection.NextDeadline is { } d && (earliest is null || d < earliest))
                earliest = d;
        if (earliest == _armedFor)
            return;
        _armedFor = earliest;
        if (earliest is not { } when)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var due = when - Now;
        // The system provider's timers count whole milliseconds: a shorter positive due time would
        // fire at once, find nothing due and re-arm, spinning until the deadline. Wait the
        // millisecond instead (hosts that need finer timers pass PreciseTimeProvider).
        if (ReferenceEquals(_time, TimeProvider.System) && due > TimeSpan.Zero && due < MinTimerDue)
            due = MinTimerDue;
        _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    // ---------------------------------------------------------------- dispatch

    private void HandlePacket(ReadOnlySpan<byte> bytes)
    {
        if (PacketView.TryParse(bytes, out var pv) != PacketStatus.Tcp)
            return;
        if (!pv.Destination.SequenceEqual(_localAddress))
            return;
        if (_options.VerifyChecksums && !pv.TcpChecksumValid)
        {
            _dropped++;
            return;
        }
        var tcp = pv.Tcp;
        var key = new ConnectionKey(ConnectionKey.Addr(pv.Destination), tcp.DestinationPort, ConnectionKey.Addr(pv.Source), tcp.SourcePort);
        var seg = IncomingSegment.From(tcp);
        var now = Now;
        var flags = seg.Flags;
        if (_table.TryGetValue(key, out var entry))
        {
            // A new SYN for a 4-tuple in TIME-WAIT whose sequence number is past the old
            // connection's (RFC 9293 3.6.1, as Linux does): the old one is gone, a new one starts.
            bool reuse = entry.Connection.State == TcpState.TimeWait && flags.Has(TcpFlags.Syn)
                && !flags.Has(TcpFlags.Ack) && !flags.Has(TcpFlags.Rst) && seg.Sequence > entry.Connection.ReceiveNext
                && _listeners.ContainsKey(tcp.DestinationPort);
            if (!reuse)
            {
                entry.Connection.Process(seg, now);
                AfterEvent(entry);
                return;
            }
            entry.Connection.Abort(now); // no RST leaves TIME-WAIT; this only marks it closed
            AfterEvent(entry);
        }
        if (_listeners.TryGetValue(tcp.DestinationPort, out var listener)
            && flags.Has(TcpFlags.Syn) && !flags.Has(TcpFlags.Ack) && !flags.Has(TcpFlags.Rst))
        {
            if (listener.Pending >= listener.Backlog)
            {
                _listenOverflows++; // like Linux: drop the SYN, the client retries
                return;
            }
            var remote = new IPEndPoint(new IPAddress(pv.Source), tcp.SourcePort);
            entry = CreateEntry(key, listener.LocalEndPoint, remote, listener);
            listener.Pending++;
            entry.Connection.Listen();
            entry.Connection.Process(seg, now);
            AfterEvent(entry);
            return;
        }
        if (_options.ResetUnknownConnections && !flags.Has(TcpFlags.Rst))
        {
            // RFC 9293 3.10.7.1: a segment for a connection that does not exist.
            var o = SegmentOptions.None;
            var rst = flags.Has(TcpFlags.Ack)
                ? new OutgoingSegment(seg.Acknowledgment, default, TcpFlags.Rst, 0, o, default, default)
                : new OutgoingSegment(default, seg.Sequence + seg.SequenceLength, TcpFlags.Rst | TcpFlags.Ack, 0, o, default, default);
            Enqueue(rst, pv.Destination, tcp.DestinationPort, pv.Source, tcp.SourcePort);
        }
    }

    private Entry CreateEntry(ConnectionKey key, IPEndPoint local, IPEndPoint remote, TcpListener? listener)
    {
        var cfg = _options.Connection;
        var remoteBytes = remote.Address.GetAddressBytes();
        uint iss = cfg.IsnGenerator.Next(_localAddress, (ushort)local.Port, remoteBytes, (ushort)remote.Port, Now);
        var sink = new ConnectionSink(this, _localAddress, (ushort)local.Port, remoteBytes, (ushort)remote.Port);
        var conn = new TcpConnection(cfg, sink, iss);
        var socket = new TcpSocket(this, conn, _nextSocketId++, local, remote);
        var entry = new Entry(key, conn, socket, listener);
        _table.Add(key, entry);
        return entry;
    }

    /// <summary>Bookkeeping after a connection handled an event. Caller holds <see cref="Gate"/>.</summary>
    internal void AfterEvent(Entry e)
    {
        var c = e.Connection;
        if (!e.Established && c.IsSynchronized)
        {
            e.Established = true;
            _connections++;
            if (e.Listener is { } l)
            {
                e.Queued = true;
                l.Enqueue(e.Socket);
            }
        }
        if (c.State == TcpState.Closed && _table.Remove(e.Key))
        {
            if (e.Listener is { } owner && !e.Socket.Accepted)
                owner.Pending--;
            _retransmissions += c.Retransmissions;
            _segmentsSent += c.SegmentsSent;
            _segmentsReceived += c.SegmentsReceived;
            _bytesSent += c.BytesAcknowledged;
            _bytesReceived += c.BytesReceived;
        }
        e.Socket.Signal();
    }

    internal Entry? Find(TcpSocket socket)
    {
        var l = socket.LocalEndPoint;
        var r = socket.RemoteEndPoint;
        var key = new ConnectionKey(ConnectionKey.Addr(l.Address.GetAddressBytes()), (ushort)l.Port, ConnectionKey.Addr(r.Address.GetAddressBytes()), (ushort)r.Port);
        return _table.TryGetValue(key, out var e) && ReferenceEquals(e.Socket, socket) ? e : null;
    }

    /// <summary>
    /// Removes the listener and resets the connections it had not handed out yet (half-open or
    /// waiting in its accept queue), as Linux does when a listening socket closes: nobody would
    /// ever read or close them.
    /// </summary>
    internal void StopListening(TcpListener listener)
    {
        lock (Gate)
        {
            if (_listeners.TryGetValue((ushort)listener.LocalEndPoint.Port, out var current) && ReferenceEquals(current, listener))
                _listeners.Remove((ushort)listener.LocalEndPoint.Port);
            var orphans = new List<Entry>();
            foreach (var e in _table.Values)
                if (ReferenceEquals(e.Listener, listener) && !e.Socket.Accepted)
                    orphans.Add(e);
            var now = Now;
            foreach (var e in orphans)
            {
                e.Connection.Abort(now);
                AfterEvent(e);
            }
            ArmTimer();
            FlushOutput();
        }
    }

    private ushort AllocatePort(IPEndPoint remote)
    {
        int range = _options.EphemeralPortLast - _options.EphemeralPortFirst + 1;
        var r = ConnectionKey.Addr(remote.Address.GetAddressBytes());
        var l = ConnectionKey.Addr(_localAddress);
        for (int i = 0; i < range; i++)
        {
            ushort p = _nextEphemeral;
            _nextEphemeral = p >= _options.EphemeralPortLast ? _options.EphemeralPortFirst : (ushort)(p + 1);
            if (!_listeners.ContainsKey(p) && !_table.ContainsKey(new ConnectionKey(l, p, r, (ushort)remote.Port)))
                return p;
        }
        throw new IOException($"No free local port for a connection to {remote}.");
    }

    internal void Enqueue(in OutgoingSegment segment, ReadOnlySpan<byte> src, ushort srcPort, ReadOnlySpan<byte> dst, ushort dstPort)
    {
        if (_batched is not null)
        {
            try
            {
                _batched.Add(segment, src, srcPort, dst, dstPort);
            }
            catch (ObjectDisposedException)
            {
                _dropped++; // a socket call after the transport closed: nothing goes out any more
                return;
            }
            if (!_flushRequested)
            {
                _flushRequested = true;
                _flushRequests.Writer.TryWrite(0);
            }
            return;
        }
        int len = PacketEncoder.HeaderLength(src.Length == 16 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork) + segment.TcpLength;
        var buf = ArrayPool<byte>.Shared.Rent(len);
        int n = PacketEncoder.Encode(buf, segment, src, srcPort, dst, dstPort);
        if (!_outgoing.Writer.TryWrite((buf, n)))
            ArrayPool<byte>.Shared.Return(buf);
    }

    /// <summary>
    /// Flushes pending output and stops the loops and the timer; pending accepts then fail with
    /// <see cref="ObjectDisposedException"/>, and so do socket reads, writes and waits, pending or new.
    /// Connections are left as they
    /// are (no RST); the transport is not disposed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (Gate)
        {
            if (IsDisposed)
                return;
            IsDisposed = true;
            FlushOutput();
        }
        _stop.Cancel();
        _outgoing.Writer.TryComplete();
        _flushRequests.Writer.TryComplete();
        _timer.Dispose();
        if (_receiveLoop is not null)
            await _receiveLoop.ConfigureAwait(false);
        if (_sendLoop is not null)
            await _sendLoop.ConfigureAwait(false);
        lock (Gate)
        {
            foreach (var l in _listeners.Values.ToList())
                l.Complete();
            foreach (var e in _table.Values)
                e.Socket.Signal();
        }
        _stop.Dispose();
    }

    // ---------------------------------------------------------------- types

    internal readonly record struct ConnectionKey(UInt128 Local, ushort LocalPort, UInt128 Remote, ushort RemotePort)
    {
        public static UInt128 Addr(ReadOnlySpan<byte> a)
        {
            if (a.Length == 4)
                return (UInt128)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(a) | ((UInt128)0xFFFF << 32);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(a);
        }
    }

    internal sealed class Entry(ConnectionKey key, TcpConnection connection, TcpSocket socket, TcpListener? listener)
    {
        public readonly ConnectionKey Key = key;
        public readonly TcpConnection Connection = connection;
        public readonly TcpSocket Socket = socket;
        public readonly TcpListener? Listener = listener;
        /// <summary>Handed to the listener's accept queue.</summary>
        public bool Queued;
        /// <summary>Reached a synchronized state once, so counted in the statistics.</summary>
        public bool Established;
    }

    private sealed class ConnectionSink(TcpStack stack, byte[] local, ushort localPort, byte[] remote, ushort remotePort) : ISegmentSink
    {
        public void Send(in OutgoingSegment segment) => stack.Enqueue(segment, local, localPort, remote, remotePort);
    }
}
