using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Middlebox;
using static TcpExposure.Responder.Tests.Middlebox.Seg;

namespace TcpExposure.Responder.Tests.Middlebox;

/// <summary>A clock that moves only when told to, with timers that fire when it passes their due time.</summary>
internal sealed class ManualTime : TimeProvider
{
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public int ActiveTimers => _timers.Count(t => t.Due is not null);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new ManualTimer(this, callback, state);
        t.Change(dueTime, period);
        _timers.Add(t);
        return t;
    }

    public void Advance(TimeSpan by)
    {
        _now += by;
        foreach (var t in _timers.ToList())
            if (t.Due is { } due && due <= _now)
            {
                t.Due = null;
                t.Fire();
            }
    }

    private sealed class ManualTimer(ManualTime owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }
        public void Fire() => callback(state);
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
            return true;
        }
        public void Dispose() => Due = null;
        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

public class MiddleboxEngineTests
{
    [Test]
    public void HeldSegmentsLeaveWhenTheHoldTimeHasPassedOnTheClock()
    {
        var time = new ManualTime();
        var sent = new List<RoutedSegment>();
        using var engine = new MiddleboxEngine([new CoalesceBehaviour(TimeSpan.FromMilliseconds(50))], time, sent.Add);
        engine.Handle(ToServer(TcpFlags.Ack, 100, 1, 10), MiddleboxDirection.ToServer);
        time.Advance(TimeSpan.FromMilliseconds(20));
        engine.Handle(ToServer(TcpFlags.Ack, 110, 1, 10), MiddleboxDirection.ToServer);
        Assert.That(sent, Is.Empty);
        time.Advance(TimeSpan.FromMilliseconds(29));
        Assert.That(sent, Is.Empty, "49 ms: still held");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(sent.Single().Segment.Payload.Length, Is.EqualTo(20));
        Assert.That(time.ActiveTimers, Is.Zero, "nothing held, no timer");
        engine.Handle(ToServer(TcpFlags.Syn, 5), MiddleboxDirection.ToServer);
        Assert.That(sent, Has.Count.EqualTo(2), "what is not held leaves at once");
    }

    [Test]
    public void DisposeSendsWhatIsHeldAndIgnoresLaterSegments()
    {
        var time = new ManualTime();
        var sent = new List<RoutedSegment>();
        var engine = new MiddleboxEngine([new CoalesceBehaviour(TimeSpan.FromSeconds(1))], time, sent.Add);
        engine.Handle(ToServer(TcpFlags.Ack, 100, 1, 10), MiddleboxDirection.ToServer);
        engine.Dispose();
        Assert.That(sent, Has.Count.EqualTo(1));
        engine.Handle(ToServer(TcpFlags.Syn, 5), MiddleboxDirection.ToServer);
        Assert.That(sent, Has.Count.EqualTo(1));
    }
}
