namespace TcpExposure.Responder.Middlebox;

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
