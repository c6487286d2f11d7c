namespace TcpExposure.Stateful.Tests;

/// <summary>
/// A virtual clock: time moves only in <see cref="Advance"/>/<see cref="AdvanceTo"/>, which fire the
/// timers that fall due in order, each at its own due time.
/// (Microsoft.Extensions.TimeProvider.Testing is not available here.)
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly object _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() { lock (_lock) return _ticks; }
    public override DateTimeOffset GetUtcNow() => Epoch + TimeSpan.FromTicks(GetTimestamp());
    public TimeSpan Elapsed => TimeSpan.FromTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new ManualTimer(this, callback, state);
        lock (_lock)
            _timers.Add(t);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>When the next timer fires, if any is armed.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_lock)
            {
                long? min = null;
                foreach (var t in _timers)
                    if (t.DueAt is { } d && (min is null || d < min))
                        min = d;
                return min is { } m ? TimeSpan.FromTicks(m) : null;
            }
        }
    }

    public void Advance(TimeSpan by) => AdvanceTo(Elapsed + by);

    public void AdvanceTo(TimeSpan target)
    {
        while (true)
        {
            ManualTimer? next = null;
            lock (_lock)
            {
                foreach (var t in _timers)
                    if (t.DueAt is { } d && d <= target.Ticks && (next is null || d < next.DueAt))
                        next = t;
                if (next is null)
                {
                    if (target.Ticks > _ticks)
                        _ticks = target.Ticks;
                    return;
                }
                if (next.DueAt!.Value > _ticks)
                    _ticks = next.DueAt.Value;
                next.DueAt = next.Period is { } p ? _ticks + p : null;
            }
            next.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt;
        public long? Period;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + Math.Max(0, dueTime.Ticks);
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period.Ticks;
            }
            return true;
        }

        public void Dispose()
        {
            lock (owner._lock)
                owner._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
