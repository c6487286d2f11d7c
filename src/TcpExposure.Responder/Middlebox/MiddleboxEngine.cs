using System.Buffers.Binary;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>Sends an encoded IP packet on toward <paramref name="direction"/>.</summary>
public delegate void PacketSender(ReadOnlySpan<byte> packet, MiddleboxDirection direction);

/// <summary>
/// The pipeline plus its hold timer, without any socket: segments go in, what leaves is handed to
/// a send callback, and what behaviours hold (coalescing) is released when the
/// <see cref="TimeProvider"/>'s timer fires. Thread-safe: both receive loops and the timer call in.
/// </summary>
public sealed class MiddleboxEngine : IDisposable
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Action<RoutedSegment> _send;
    private ITimer? _timer;
    private bool _disposed;

    /// <summary>Runs <paramref name="behaviours"/>, timing holds on <paramref name="time"/>, sending with <paramref name="send"/>.</summary>
    public MiddleboxEngine(IReadOnlyList<IMiddleboxBehaviour> behaviours, TimeProvider time, Action<RoutedSegment> send)
    {
        Pipeline = new MiddleboxPipeline(behaviours);
        _time = time;
        _send = send;
    }

    /// <summary>The behaviours in order.</summary>
    public MiddleboxPipeline Pipeline { get; }

    /// <summary>Runs one segment through the behaviours and sends what comes out.</summary>
    public void Handle(Craft.Packets.TcpSegment segment, MiddleboxDirection direction)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            foreach (var r in Pipeline.Process(segment, direction))
                _send(r);
            ArmTimer();
        }
    }

    /// <summary>
    /// Forwards <paramref name="packet"/> as it is, its TTL (hop limit) decremented in place, when
    /// no behaviour would touch it: no parse into a <see cref="Craft.Packets.TcpSegment"/>, no
    /// allocation. False when it must go through <see cref="Handle"/> instead (a behaviour wants
    /// it, it is not a whole TCP segment, or its TTL is about to expire).
    /// </summary>
    public bool TryPassThrough(Span<byte> packet, MiddleboxDirection direction, PacketSender send)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (PacketView.TryParse(packet, out var view) != PacketStatus.Tcp || view.LengthMismatch || view.Ttl <= 1)
            return false;
        int length = view.Bytes.Length;
        bool v6 = view.IsIpv6;
        lock (_gate)
        {
            // Under the lock, so a segment never overtakes one a behaviour holds or is sending.
            if (_disposed || Pipeline.Touches(view, direction))
                return false;
            var bytes = packet[..length];
            DecrementTtl(bytes, v6);
            send(bytes, direction);
            return true;
        }
    }

    private static void DecrementTtl(Span<byte> packet, bool v6)
    {
        if (v6)
        {
            packet[7]--;
            return;
        }
        packet[8]--;
        int ihl = (packet[0] & 0x0F) * 4;
        packet[10] = packet[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], Checksum.Compute(packet[..ihl]));
    }

    private void ArmTimer()
    {
        if (_timer is not null || Pipeline.HoldTime is not { } hold)
            return;
        _timer = _time.CreateTimer(_ => OnTimer(), null, hold, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            if (_disposed)
                return;
            foreach (var r in Pipeline.Flush())
                _send(r);
            ArmTimer();
        }
    }

    /// <summary>Sends what is held and stops; later segments are ignored.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _timer?.Dispose();
            _timer = null;
            foreach (var r in Pipeline.Flush())
                _send(r);
            _disposed = true;
        }
    }
}
