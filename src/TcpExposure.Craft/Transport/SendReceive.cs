using System.Buffers;
using System.Net;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Sends a list of packets and collects what answers them: TCP segments whose addresses and ports
/// are a sent segment's reversed, and ICMP errors quoting a sent segment.
/// </summary>
/// <remarks>
/// Capture runs from before the first send to the end, so an answer that overtakes the code that
/// sent it is still caught. The timeout starts when the last packet has gone out and is a
/// <see cref="CancellationTokenSource"/> on the given <see cref="TimeProvider"/>: nothing sleeps or
/// polls, and the exchange ends within the timer's resolution of the deadline. Packets that do not
/// match are looked at in the pooled receive buffer and dropped without allocating.
/// </remarks>
public static class SendReceive
{
    /// <summary>Sends <paramref name="segments"/> back to back and collects the answers.</summary>
    public static Task<SendReceiveResult> RunAsync(IPacketTransport transport, IEnumerable<TcpSegment> segments,
        SendReceiveOptions? options = null, CancellationToken cancellationToken = default)
        => RunAsync(transport, segments.Select(s => OutgoingPacket.From(s)).ToList(), options, cancellationToken);

    /// <summary>Sends <paramref name="packets"/> (each after its delay) and collects the answers.</summary>
    public static async Task<SendReceiveResult> RunAsync(IPacketTransport transport, IReadOnlyList<OutgoingPacket> packets,
        SendReceiveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        options ??= new SendReceiveOptions();
        var time = options.Time;
        var run = new Exchange(packets, options);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var end = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, deadline.Token);
        run.Stop = stop;

        long started = time.GetTimestamp();
        var receiving = ReceiveLoopAsync(transport, run, end.Token);
        var sent = new List<SentPacket>(packets.Count);
        try
        {
            for (int i = 0; i < packets.Count && !end.IsCancellationRequested; i++)
            {
                var p = packets[i];
                if (p.DelayBefore > TimeSpan.Zero)
                {
                    try { await Task.Delay(p.DelayBefore, time, end.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { break; }
                }
                // Published before the send: on loopback the answer can be captured before SendAsync returns.
                // Stamped and written to the capture before it leaves, so the file stays in time order
                // when the answer is captured before SendAsync returns.
                run.MarkSending(i);
                var stamp = time.GetUtcNow();
                run.WriteCapture(p.Bytes.Span, stamp);
                await transport.SendAsync(p.Bytes, cancellationToken).ConfigureAwait(false);
                sent.Add(new SentPacket(i, p.Bytes, stamp));
            }
            run.ArmDeadline(deadline, time, options.Timeout);
        }
        catch
        {
            stop.Cancel();
            await receiving.ConfigureAwait(false);
            run.DisarmDeadline();
            run.CloseCapture();
            throw;
        }
        await receiving.ConfigureAwait(false);
        run.DisarmDeadline();
        run.CloseCapture();
        cancellationToken.ThrowIfCancellationRequested();
        return new SendReceiveResult(sent, run.Answers, run.StoppedEarly, time.GetElapsedTime(started), run.Seen);
    }

    private static async Task ReceiveLoopAsync(IPacketTransport transport, Exchange run, CancellationToken token)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(run.Options.ReceiveBufferSize);
        try
        {
            while (!token.IsCancellationRequested)
            {
                ReceivedPacket r;
                try
                {
                    r = await transport.ReceiveAsync(buffer.AsMemory(0, run.Options.ReceiveBufferSize), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                run.Offer(buffer.AsSpan(0, r.Length), r);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The state one exchange shares between its send and receive sides.</summary>
    private sealed class Exchange
    {
        private readonly FlowKey[] _keys;      // as sent
        private readonly bool[] _isTcp;
        private readonly List<Answer> _answers = [];
        private readonly PcapWriter? _capture;
        private readonly Lock _lock = new();
        private int _sending = -1;

        public Exchange(IReadOnlyList<OutgoingPacket> packets, SendReceiveOptions options)
        {
            Options = options;
            _keys = new FlowKey[packets.Count];
            _isTcp = new bool[packets.Count];
            for (int i = 0; i < packets.Count; i++)
                _isTcp[i] = FlowKey.TryRead(packets[i].Bytes.Span, out _keys[i]);
            if (options.Capture is { } stream)
                _capture = new PcapWriter(stream, LinkType.Raw, nanosecond: true, leaveOpen: true);
        }

        public SendReceiveOptions Options { get; }
        public CancellationTokenSource? Stop { get; set; }
        public bool StoppedEarly { get; private set; }
        public long Seen { get; private set; }

        public IReadOnlyList<Answer> Answers
        {
            get { lock (_lock) return _answers.ToArray(); }
        }

        private ITimer? _deadlineTimer;

        /// <summary>
        /// Cancels <paramref name="deadline"/> once <paramref name="timeout"/> has passed by the precise
        /// clock. .NET timers run on a coarse tick (CLOCK_MONOTONIC_COARSE: 4 ms at HZ=250) and may fire a
        /// few milliseconds early, so an early firing re-arms for what is left instead of cutting short.
        /// </summary>
        public void ArmDeadline(CancellationTokenSource deadline, TimeProvider time, TimeSpan timeout)
        {
            long armed = time.GetTimestamp();
            lock (_lock)
            {
                _deadlineTimer = time.CreateTimer(_ =>
                {
                    var left = timeout - time.GetElapsedTime(armed);
                    if (left <= TimeSpan.Zero)
                    {
                        try { deadline.Cancel(); } catch (ObjectDisposedException) { }
                        return;
                    }
                    lock (_lock) _deadlineTimer?.Change(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, Timeout.InfiniteTimeSpan);
                }, null, timeout, Timeout.InfiniteTimeSpan);
            }
        }

        public void DisarmDeadline()
        {
            lock (_lock)
            {
                _deadlineTimer?.Dispose();
                _deadlineTimer = null;
            }
        }

        public void MarkSending(int index) => Volatile.Write(ref _sending, index);

        public void CloseCapture()
        {
            lock (_lock) _capture?.Dispose();
        }

        public void WriteCapture(ReadOnlySpan<byte> packet, DateTimeOffset stamp)
        {
            if (_capture is null) return;
            lock (_lock) _capture.Write(packet, stamp);
        }

        /// <summary>The latest sent packet (up to the one being sent) whose key satisfies the test, or -1.</summary>
        private int FindSent(in FlowKey key, bool reversed)
        {
            int last = Volatile.Read(ref _sending);
            if (last < 0) return -1;
            if (!Options.MatchAnySent) last = 0;
            for (int i = last; i >= 0; i--)
            {
                if (!_isTcp[i]) continue;
                var want = reversed ? _keys[i].Reversed() : _keys[i];
                if (want == key) return i;
            }
            return -1;
        }

        public void Offer(ReadOnlySpan<byte> packet, ReceivedPacket r)
        {
            Seen++;
            WriteCapture(packet, r.Timestamp);
            var status = PacketView.TryParse(packet, out var view);
            if (status == PacketStatus.NotIp || (Options.IgnoreTtlOne && view.Ttl == 1))
                return;
            Answer answer;
            if (status == PacketStatus.Tcp)
            {
                if (!FlowKey.TryRead(packet, out var key)) return;
                int index = FindSent(key, reversed: true);
                if (index < 0) return;
                answer = new Answer(packet.ToArray(), r.Timestamp, index, key, null, r.Truncated);
            }
            else if (Options.MatchIcmpErrors && IcmpError.TryRead(packet, out byte type, out byte code, out var quoted, out int quoteAt))
            {
                int index = FindSent(quoted, reversed: false);
                if (index < 0) return;
                var bytes = packet.ToArray();
                var icmp = new IcmpError(view.IsIpv6 ? 6 : 4, type, code, new IPAddress(view.Source), quoted, bytes.AsMemory(quoteAt));
                answer = new Answer(bytes, r.Timestamp, index, quoted, icmp, r.Truncated);
            }
            else
            {
                return;
            }
            lock (_lock) _answers.Add(answer);
            if (ShouldStop(answer))
            {
                StoppedEarly = true;
                Stop?.Cancel();
            }
        }

        private bool ShouldStop(Answer a)
        {
            bool byCondition = Options.Until switch
            {
                StopCondition.Any => true,
                StopCondition.SynAck => a.Flags.Has(TcpFlags.Syn | TcpFlags.Ack),
                StopCondition.Rst => a.Flags.Has(TcpFlags.Rst),
                _ => false,
            };
            return byCondition || (Options.StopWhen?.Invoke(a) ?? false);
        }
    }
}
