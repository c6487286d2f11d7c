using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>Where a <see cref="MiddleboxForwarder"/> runs and what it does.</summary>
public sealed record MiddleboxOptions
{
    /// <summary>The router's network namespace; null: the current one.</summary>
    public string? Namespace { get; init; }
    /// <summary>The interface toward the client.</summary>
    public string Left { get; init; } = "eth0";
    /// <summary>The interface toward the server.</summary>
    public string Right { get; init; } = "eth1";
    /// <summary>The behaviours, applied in order.</summary>
    public IReadOnlyList<IMiddleboxBehaviour> Behaviours { get; init; } = [];
    /// <summary>The clock of the hold timers (coalescing).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>One line per forwarded segment, when set.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// A user-space TCP middlebox on a Linux router: TCP between the two interfaces goes through the
/// behaviours instead of the kernel's forwarding; everything else (ARP, ICMP, UDP, traffic to the
/// router itself) stays with the kernel.
/// </summary>
/// <remarks>
/// <para>How: an iptables rule (and an ip6tables one) in the router's namespace drops forwarded
/// TCP between the two interfaces, tagged <c>tcpexposure-mb-PID</c>. An AF_PACKET socket on each
/// interface sees every incoming frame before netfilter does, so the dropped segments still reach
/// us; each one is parsed, run through the behaviours, its TTL decremented, and what comes out is
/// written with a raw IP socket in the same namespace. Those are locally generated packets, so
/// FORWARD never sees them: the kernel routes them, resolves the next hop's MAC (ARP/ND) and
/// builds the Ethernet header. This was chosen over writing frames ourselves (we would have to do
/// neighbour resolution) and over NFQUEUE (one verdict per packet cannot emit several segments or
/// send one the other way, which split and proxy ACK need, and it needs a netlink client).</para>
/// <para>Rules are removed on <see cref="DisposeAsync"/>, at process exit, on Ctrl-C/SIGTERM (the
/// clean-up registry), and rules of dead processes are removed by the next start.</para>
/// </remarks>
public sealed class MiddleboxForwarder : IAsyncDisposable
{
    private const string CommentPrefix = "tcpexposure-mb-";
    private readonly MiddleboxOptions _options;
    private readonly MiddleboxEngine _engine;
    private readonly RawSocketTransport _left, _right, _sender;
    private readonly byte[][] _local;
    private readonly PacketSender _passSend;
    private readonly CancellationTokenSource _stop = new();
    private readonly CleanupRegistration _cleanup;
    private readonly string _comment;
    private readonly List<string[]> _rules = [];
    private Task _loops = Task.CompletedTask;
    private int _disposed;

    private MiddleboxForwarder(MiddleboxOptions options, RawSocketTransport left, RawSocketTransport right, RawSocketTransport sender, byte[][] local)
    {
        _options = options;
        _engine = new MiddleboxEngine(options.Behaviours, options.Time, Send);
        _left = left;
        _right = right;
        _sender = sender;
        _local = local;
        _passSend = SendRaw;
        _comment = CommentPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        _cleanup = CleanupRegistry.Register(RemoveRules, $"middlebox rules in {options.Namespace ?? "this namespace"}");
    }

    /// <summary>The behaviours in order.</summary>
    public MiddleboxPipeline Pipeline => _engine.Pipeline;

    /// <summary>Counters so far.</summary>
    public MiddleboxCounters Counters { get; } = new();

    /// <summary>Opens the sockets, installs the rules and starts forwarding.</summary>
    /// <exception cref="MissingPrivilegeException">No CAP_NET_RAW.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing or refused the rule.</exception>
    public static MiddleboxForwarder Start(MiddleboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ExternalCommand.Require("iptables", "iptables", "The middlebox");
        var (left, right, sender, local) = NetworkNamespace.Run(options.Namespace, () =>
        {
            RawSocketTransport? l = null, r = null;
            try
            {
                l = new RawSocketTransport(new() { Interface = options.Left });
                r = new RawSocketTransport(new() { Interface = options.Right });
                var s = new RawSocketTransport(new() { Receive = false });
                var addresses = NetworkInterface.GetAllNetworkInterfaces()
                    .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address.GetAddressBytes()).ToArray();
                return (l, r, s, addresses);
            }
            catch
            {
                l?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                r?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        });
        var forwarder = new MiddleboxForwarder(options, left, right, sender, local);
        try
        {
            forwarder.RemoveStaleRules();
            forwarder.AddRules();
            forwarder._loops = Task.WhenAll(
                Task.Run(() => forwarder.LoopAsync(left, MiddleboxDirection.ToServer)),
                Task.Run(() => forwarder.LoopAsync(right, MiddleboxDirection.ToClient)));
        }
        catch
        {
            forwarder.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return forwarder;
    }

    private IEnumerable<string> Firewalls() =>
        ExternalCommand.Find("ip6tables") is null ? ["iptables"] : ["iptables", "ip6tables"];

    private void AddRules()
    {
        foreach (var fw in Firewalls())
            foreach (var (i, o) in new[] { (_options.Left, _options.Right), (_options.Right, _options.Left) })
            {
                string[] rule = [fw, "FORWARD", "-i", i, "-o", o, "-p", "tcp", "-m", "comment", "--comment", _comment, "-j", "DROP"];
                ExternalCommand.RunChecked(fw, ["-w", "-I", .. rule[1..]], _options.Namespace);
                lock (_rules)
                    _rules.Add(rule);
            }
    }

    private void RemoveRules()
    {
        lock (_rules)
        {
            foreach (var rule in _rules)
                ExternalCommand.Run(rule[0], ["-w", "-D", .. rule[1..]], _options.Namespace);
            _rules.Clear();
        }
    }

    // A kill -9 leaves rules that would black-hole TCP through the router: drop those of dead processes.
    private void RemoveStaleRules()
    {
        foreach (var fw in Firewalls())
        {
            var listing = ExternalCommand.Run(fw, ["-w", "-S", "FORWARD"], _options.Namespace);
            foreach (var line in listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int at = line.IndexOf(CommentPrefix, StringComparison.Ordinal);
                if (!line.StartsWith("-A ", StringComparison.Ordinal) || at < 0)
                    continue;
                var digits = new string(line.AsSpan(at + CommentPrefix.Length).ToArray().TakeWhile(char.IsAsciiDigit).ToArray());
                if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId || ProcessIdentity.IsAlive(pid))
                    continue;
                var args = line[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a.Trim('"'));
                ExternalCommand.Run(fw, ["-w", "-D", .. args], _options.Namespace);
            }
        }
    }

    private async Task LoopAsync(RawSocketTransport capture, MiddleboxDirection direction)
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            ReceivedPacket received;
            try
            {
                received = await capture.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (System.Net.Sockets.SocketException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            try
            {
                Handle(buffer.AsSpan(0, received.Length), direction);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One segment a behaviour cannot take (a bug) must not stop the box: it is dropped and counted.
                Interlocked.Increment(ref Counters.Faults);
                _options.Log?.Invoke($"middlebox: dropped a segment on an error: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private void Handle(Span<byte> packet, MiddleboxDirection direction)
    {
        if (PacketView.TryParse(packet, out var view) != PacketStatus.Tcp || IsLocal(view.Destination) || IsMulticast(view.Destination))
            return;
        // Segments no behaviour touches go on as they came, but for the TTL: no parse, no allocation.
        if (_options.Log is null && _engine.TryPassThrough(packet, direction, _passSend))
        {
            Interlocked.Increment(ref direction == MiddleboxDirection.ToServer ? ref Counters.ReceivedToServer : ref Counters.ReceivedToClient);
            Interlocked.Increment(ref Counters.PassedThrough);
            return;
        }
        var parsed = SegmentParser.Parse(packet);
        if (parsed.Segment is not { } segment)
            return; // not TCP after all (ICMP): the kernel forwards it
        Interlocked.Increment(ref direction == MiddleboxDirection.ToServer ? ref Counters.ReceivedToServer : ref Counters.ReceivedToClient);
        if (segment.Ip.Ttl <= 1)
        {
            Interlocked.Increment(ref Counters.TtlExpired);
            return;
        }
        _engine.Handle(segment with { Ip = segment.Ip with { Ttl = (byte)(segment.Ip.Ttl - 1) } }, direction);
    }

    private bool IsLocal(ReadOnlySpan<byte> address)
    {
        foreach (var a in _local)
            if (address.SequenceEqual(a))
                return true;
        return false;
    }

    // IPv4 224/4, IPv6 ff00::/8.
    private static bool IsMulticast(ReadOnlySpan<byte> a) => a.Length == 4 ? (a[0] & 0xF0) == 0xE0 : a.Length == 16 && a[0] == 0xFF;

    private void SendRaw(ReadOnlySpan<byte> packet, MiddleboxDirection direction)
    {
        if (!_sender.TrySend(packet))
        {
            Interlocked.Increment(ref Counters.SendFailures);
            return;
        }
        Interlocked.Increment(ref direction == MiddleboxDirection.ToServer ? ref Counters.SentToServer : ref Counters.SentToClient);
    }

    private void Send(RoutedSegment r)
    {
        var s = r.Segment;
        int length = s.GetEncodedLength();
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (!s.TryEncode(rented, out int written) || !_sender.TrySend(rented.AsSpan(0, written)))
            {
                Interlocked.Increment(ref Counters.SendFailures);
                return;
            }
            Interlocked.Increment(ref r.Direction == MiddleboxDirection.ToServer ? ref Counters.SentToServer : ref Counters.SentToClient);
            _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"{(r.Direction == MiddleboxDirection.ToServer ? "->" : "<-")} {s.Ip.Source}:{s.SourcePort} > {s.Ip.Destination}:{s.DestinationPort} {s.Flags} seq {s.Sequence.Value} ack {s.Acknowledgment.Value} win {s.Window} len {s.Payload.Length} opts [{string.Join(" ", s.Options)}]"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Releases what is held, stops forwarding, removes the rules.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _engine.Dispose(); // sends what is held
        _stop.Cancel();
        _cleanup.Dispose(); // removes the rules
        await _left.DisposeAsync().ConfigureAwait(false);
        await _right.DisposeAsync().ConfigureAwait(false);
        await _sender.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _loops.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
        _stop.Dispose();
    }
}
