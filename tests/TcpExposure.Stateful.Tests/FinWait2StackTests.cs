namespace TcpExposure.Stateful.Tests;

/// <summary>The FIN-WAIT-2 timeout through the stack: the closed connection leaves the table.</summary>
public class FinWait2StackTests
{
    private static StackHarness Harness() => new(new TcpStackOptions
    {
        Connection = new TcpConfig { FinWait2Timeout = TimeSpan.FromSeconds(5), TimeWait = TimeSpan.FromSeconds(2), UserTimeout = TimeSpan.FromMinutes(10) },
    });

    /// <summary>A connection from the client stack to the server's port 8080: (client socket, accepted server socket).</summary>
    private static async Task<(TcpSocket Client, TcpSocket Server)> ConnectAsync(StackHarness h)
    {
        var listener = h.Server.Listen(8080);
        var accepted = listener.AcceptAsync();
        var c = await h.RunAsync(h.Client.ConnectAsync(h.ServerEndPoint(8080)), TimeSpan.FromSeconds(5));
        return (c, await h.RunAsync(accepted, TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task ClosedSocket_WhosePeerNeverCloses_LeavesTheTableAfterFinWait2Timeout()
    {
        await using var h = Harness();
        var (c, s) = await ConnectAsync(h);
        c.Close();   // the server application never closes its side
        await h.RunAsync(Task.Run(async () => { while (c.State != TcpState.FinWait2) await Task.Delay(1); }), TimeSpan.FromSeconds(5));
        var enteredFinWait2 = h.Clock.Elapsed;
        Assert.That(h.Client.ConnectionCount, Is.EqualTo(1));

        await h.RunAsync(Task.Run(async () => { while (h.Client.ConnectionCount > 0) await Task.Delay(1); }), TimeSpan.FromSeconds(60));
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Clock.Elapsed - enteredFinWait2, Is.EqualTo(TimeSpan.FromSeconds(5)).Within(TimeSpan.FromMilliseconds(1)));
        Assert.That(s.State, Is.EqualTo(TcpState.CloseWait), "the server side still waits for its application");
        Assert.That(h.Server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task ShutdownSocket_StaysInFinWait2ForItsReads()
    {
        await using var h = Harness();
        var (c, s) = await ConnectAsync(h);
        c.Shutdown(); // shutdown(SHUT_WR): the application still reads, so no FIN-WAIT-2 limit
        await h.RunAsync(Task.Run(async () => { while (c.State != TcpState.FinWait2) await Task.Delay(1); }), TimeSpan.FromSeconds(5));
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        await h.SettleAsync();
        Assert.That(c.State, Is.EqualTo(TcpState.FinWait2));
        await s.WriteAsync("late"u8.ToArray());
        var buffer = new byte[4];
        Assert.That(await h.RunAsync(c.ReadAsync(buffer).AsTask(), TimeSpan.FromSeconds(5)), Is.EqualTo(4));
        Assert.That(buffer, Is.EqualTo("late"u8.ToArray()));
    }
}
