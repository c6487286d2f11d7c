using TcpExposure.Craft.Transport;

namespace TcpExposure.Craft.Tests.Transport;

public class CleanupRegistryTests
{
    [Test]
    public void DisposeRunsTheActionExactlyOnce()
    {
        int runs = 0;
        var handle = CleanupRegistry.Register(() => Interlocked.Increment(ref runs), "count");
        handle.Dispose();
        handle.Dispose();
        CleanupRegistry.RunAll();
        Assert.That(runs, Is.EqualTo(1));
    }

    [Test]
    public void RunAllRunsNewestFirstAndDisposeAfterwardsDoesNothing()
    {
        var order = new List<int>();
        var a = CleanupRegistry.Register(() => { lock (order) order.Add(1); }, "first");
        var b = CleanupRegistry.Register(() => { lock (order) order.Add(2); }, "second");
        CleanupRegistry.RunAll();
        a.Dispose();
        b.Dispose();
        Assert.That(order, Is.EqualTo(new[] { 2, 1 }));
    }

    [Test]
    public void AThrowingActionDoesNotStopTheOthers()
    {
        bool ran = false;
        using var ok = CleanupRegistry.Register(() => ran = true, "ok");
        using var bad = CleanupRegistry.Register(() => throw new InvalidOperationException("boom"), "bad");
        var saved = Console.Error;
        var err = new StringWriter();
        Console.SetError(err);
        try { CleanupRegistry.RunAll(); }
        finally { Console.SetError(saved); }
        Assert.That(ran, Is.True);
        Assert.That(err.ToString(), Does.Contain("clean-up 'bad' failed: boom"));
    }

    [Test]
    public void ConcurrentDisposeAndRunAllRunEachActionOnce()
    {
        const int n = 200;
        int runs = 0;
        var handles = Enumerable.Range(0, n).Select(_ => CleanupRegistry.Register(() => Interlocked.Increment(ref runs), "c")).ToArray();
        Parallel.Invoke(
            () => { foreach (var h in handles) h.Dispose(); },
            CleanupRegistry.RunAll,
            () => { foreach (var h in handles.Reverse()) h.Dispose(); });
        Assert.That(runs, Is.EqualTo(n));
    }
}

public class CleanupRegistryForgetTests
{
    [Test]
    public void ForgetDropsTheActionWithoutRunningIt()
    {
        int runs = 0;
        var handle = CleanupRegistry.Register(() => runs++, "forgotten");
        handle.Forget();
        handle.Dispose();
        CleanupRegistry.RunAll();
        Assert.That(runs, Is.Zero);
    }
}
