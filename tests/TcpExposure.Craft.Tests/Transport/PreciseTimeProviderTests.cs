using System.Diagnostics;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Craft.Tests.Transport;

public class PreciseTimeProviderTests
{
    [Test]
    public async Task SubMillisecondTimerFiresAfterItsDueTimeNotBefore()
    {
        var fired = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        long start = Stopwatch.GetTimestamp();
        using var timer = PreciseTimeProvider.Instance.CreateTimer(
            _ => fired.TrySetResult(Stopwatch.GetTimestamp()), null, TimeSpan.FromMicroseconds(300), Timeout.InfiniteTimeSpan);
        long at = await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var elapsed = Stopwatch.GetElapsedTime(start, at);
        Assert.That(elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMicroseconds(300)));
    }

    [Test]
    public async Task ZeroDueFiresAndInfiniteDisarms()
    {
        int count = 0;
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = PreciseTimeProvider.Instance.CreateTimer(_ =>
        {
            Interlocked.Increment(ref count);
            first.TrySetResult();
        }, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        await first.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(timer.Change(TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan), Is.True);
        Assert.That(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan), Is.True);
        await Task.Delay(150);
        Assert.That(Volatile.Read(ref count), Is.EqualTo(1), "a disarmed timer fired");
    }

    [Test]
    public async Task DisposedTimerNeverFiresAndRefusesChange()
    {
        int count = 0;
        var timer = PreciseTimeProvider.Instance.CreateTimer(_ => Interlocked.Increment(ref count), null, TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan);
        timer.Dispose();
        await Task.Delay(100);
        Assert.That(Volatile.Read(ref count), Is.Zero);
        Assert.That(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan), Is.False);
    }
}
