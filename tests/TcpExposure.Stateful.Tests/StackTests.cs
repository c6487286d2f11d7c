using System.Net;
using System.Security.Cryptography;

namespace TcpExposure.Stateful.Tests;

/// <summary>Our client stack against our server stack through the socket API, on a virtual clock.</summary>
public class StackTests
{
    private static TcpStackOptions Options(TimeSpan? userTimeout = null) => new()
    {
        Connection = new TcpConfig
        {
            UserTimeout = userTimeout ?? TimeSpan.FromSeconds(120),
            TimeWait = TimeSpan.FromSeconds(2),
        },
    };

    private static async Task<byte[]> ReadToEndAsync(TcpSocket s)
    {
        var ms = new MemoryStream();
        var buf = new byte[16384];
        int n;
        while ((n = await s.ReadAsync(buf)) > 0)
            ms.Write(buf, 0, n);
        return ms.ToArray();
    }

    [Test]
    public async Task DisposingAListenerResetsTheConnectionsItNeverHandedOut()
    {
        await using var h = new StackHarness(Options());
        var listener = h.Server.Listen(8080);
        var client = await h.RunAsync(h.Client.ConnectAsync(h.ServerEndPoint(8080)), TimeSpan.FromSeconds(5));
        await h.SettleAsync();
        Assert.That(h.Server.ConnectionCount, Is.EqualTo(1), "established, waiting in the accept queue");
        listener.Dispose();
        await h.SettleAsync();
        Assert.That(h.Server.ConnectionCount, Is.Zero, "nobody would ever accept it: reset and forgotten");
        Assert.ThrowsAsync<ConnectionResetException>(async () => await h.RunAsync(client.ReadAsync(new byte[10]).AsTask(), TimeSpan.FromSeconds(5)));
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await listener.AcceptAsync());
    }

    [Test]
    public async Task DisposingTheStackEndsPendingAndNewSocketWaits()
    {
        await using var h = new StackHarness(Options());
        using var listener = h.Server.Listen(8080);
        var accept = listener.AcceptAsync();
        var client = await h.RunAsync(h.Client.ConnectAsync(h.ServerEndPoint(8080)), TimeSpan.FromSeconds(5));
        await h.RunAsync(accept, TimeSpan.FromSeconds(5));
        var pending = client.ReadAsync(new byte[10]).AsTask();
        Assert.That(pending.IsCompleted, Is.False, "nothing to read yet");
        await h.Client.DisposeAsync();
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ReadAsync(new byte[10]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        await h.Client.DisposeAsync(); // twice is harmless (the harness disposes it again)
    }

    [Test]
    public async Task ConnectAcceptWriteReadClose_BothSidesSeeAllBytes()
    {
        await using var h = new StackHarness(Options());
        using var listener = h.Server.Listen(8080);
        var request = "GET / HTTP/1.0\r\n\r\n"u8.ToArray();
        var response = RandomNumberGenerator.GetBytes(50_000);

        var server = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            var got = new byte[request.Length];
            int have = 0;
            while (have < got.Length)
                have += await s.ReadAsync(got.AsMemory(have));
            await s.WriteAsync(response);
            s.Close();
            Assert.That(await ReadToEndAsync(s), Is.Empty);
            return got;
        });
        var client = Task.Run(async () =>
        {
            var c = await h.Client.ConnectAsync(h.ServerEndPoint(8080));
            Assert.That(c.State, Is.EqualTo(TcpState.Established));
            Assert.That(h.Client.Statistics.Connections, Is.EqualTo(1), "an active open counts once established, not when it ends");
            await c.WriteAsync(request);
            var all = await ReadToEndAsync(c);
            c.Close();
            await c.WaitClosedAsync();
            return all;
        });
        var received = await h.RunAsync(client, TimeSpan.FromSeconds(10));
        Assert.That(received, Is.EqualTo(response));
        Assert.That(await h.RunAsync(server, TimeSpan.FromSeconds(10)), Is.EqualTo(request));

        await h.RunAsync(Task.Run(async () => { while (h.Client.ConnectionCount + h.Server.ConnectionCount > 0) await Task.Delay(1); }), TimeSpan.FromSeconds(30));
        var st = h.Server.Statistics;
        Assert.That(st.Connections, Is.EqualTo(1));
        Assert.That(h.Client.Statistics.Connections, Is.EqualTo(1), "counted once");
        Assert.That(st.BytesSent, Is.EqualTo(response.Length));
        Assert.That(st.Retransmissions, Is.Zero);
    }

    [Test]
    public async Task Connect_ToPortWithoutListener_IsRefused()
    {
        await using var h = new StackHarness(Options());
        var connect = h.Client.ConnectAsync(h.ServerEndPoint(9));
        var ex = Assert.ThrowsAsync<ConnectionRefusedException>(() => h.RunAsync(connect, TimeSpan.FromSeconds(5)));
        Assert.That(ex!.Message, Does.Contain("10.0.0.2:9").And.Contain("refused"));
    }

    [Test]
    public async Task Connect_IntoBlackhole_TimesOutAfterUserTimeout()
    {
        await using var h = new StackHarness(Options(TimeSpan.FromSeconds(20)), clientToServer: new Blackhole());
        var connect = h.Client.ConnectAsync(h.ServerEndPoint(80));
        var ex = Assert.ThrowsAsync<ConnectionTimedOutException>(() => h.RunAsync(connect, TimeSpan.FromSeconds(60)));
        Assert.That(ex!.Message, Does.Contain("timed out"));
        Assert.That(h.Clock.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(20)));
        Assert.That(ex, Is.InstanceOf<TimeoutException>());
    }

    [Test]
    public async Task PeerAbort_SurfacesAsConnectionReset()
    {
        await using var h = new StackHarness(Options());
        using var listener = h.Server.Listen(7);
        var accept = listener.AcceptAsync();
        var c = await h.RunAsync(h.Client.ConnectAsync(h.ServerEndPoint(7)), TimeSpan.FromSeconds(5));
        var s = await h.RunAsync(accept, TimeSpan.FromSeconds(5));
        var read = c.ReadAsync(new byte[10]).AsTask();
        s.Abort();
        var ex = Assert.ThrowsAsync<ConnectionResetException>(() => h.RunAsync(read, TimeSpan.FromSeconds(5)));
        Assert.That(ex!.Message, Does.Contain("reset"));
        Assert.ThrowsAsync<ConnectionResetException>(async () => await c.WriteAsync(new byte[1]));
    }

    [Test]
    public async Task Backlog_FullListenerDropsSyn_ClientGetsInAfterAccept()
    {
        await using var h = new StackHarness(Options());
        using var listener = h.Server.Listen(80, backlog: 2);
        var c1 = h.Client.ConnectAsync(h.ServerEndPoint(80));
        var c2 = h.Client.ConnectAsync(h.ServerEndPoint(80));
        await h.RunAsync(Task.WhenAll(c1, c2), TimeSpan.FromSeconds(5));
        var c3 = h.Client.ConnectAsync(h.ServerEndPoint(80));
        await h.SettleAsync();
        Assert.That(c3.IsCompleted, Is.False);
        Assert.That(h.Server.Statistics.ListenOverflows, Is.EqualTo(1));
        await listener.AcceptAsync();
        await h.RunAsync(c3, TimeSpan.FromSeconds(10));   // the SYN retransmission gets in
        Assert.That(h.Server.Statistics.ListenOverflows, Is.EqualTo(1));
        Assert.That(h.Clock.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(1)), "after one initial RTO");
    }

    [Test]
    public async Task ManyConcurrentConnections_EachGetsItsOwnStream()
    {
        await using var h = new StackHarness(Options());
        using var listener = h.Server.Listen(5000);
        const int count = 24;
        var server = Task.Run(async () =>
        {
            var tasks = new List<Task>();
            for (int i = 0; i < count; i++)
            {
                var s = await listener.AcceptAsync();
                tasks.Add(Task.Run(async () =>
                {
                    // Echo: read the client's id + payload, write it back.
                    var data = await ReadToEndAsync(s);
                    await s.WriteAsync(data);
                    s.Close();
                }));
            }
            await Task.WhenAll(tasks);
        });
        var clients = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            var payload = new byte[10_000 + i * 100];
            new Random(i).NextBytes(payload);
            var c = await h.Client.ConnectAsync(h.ServerEndPoint(5000));
            await c.WriteAsync(payload);
            c.Shutdown();
            var echoed = await ReadToEndAsync(c);
            return echoed.AsSpan().SequenceEqual(payload);
        })).ToArray();
        var results = await h.RunAsync(Task.WhenAll(clients), TimeSpan.FromSeconds(30));
        Assert.That(results, Has.All.True);
        await h.RunAsync(server, TimeSpan.FromSeconds(30));
        Assert.That(h.Server.Statistics.Connections, Is.EqualTo(count));
        Assert.That(h.Client.Sockets.Select(s => s.Local.Port).Distinct().Count(), Is.EqualTo(h.Client.Sockets.Count));
    }

    [TestCase("every 7th", 7, 0, false)]
    [TestCase("random 10%", 0, 1234, false)]
    [TestCase("random 10%, no SACK", 0, 99, true)]
    public async Task OneMegabyte_OverLossyLink_ArrivesExactly(string name, int nth, int seed, bool noSack)
    {
        ILossModel Loss(int salt) => nth > 0 ? new DropEveryNth(nth) : new RandomLoss(0.10, seed + salt);
        var opts = Options();
        if (noSack)
            opts = opts with { Connection = opts.Connection with { Sack = false } };
        await using var h = new StackHarness(opts, Loss(1), Loss(2));
        using var listener = h.Server.Listen(80);
        var file = new byte[1 << 20];
        new Random(42).NextBytes(file);

        var server = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            await s.WriteAsync(file);
            s.Close();
            return s.Counters;
        });
        var client = Task.Run(async () =>
        {
            var c = await h.Client.ConnectAsync(h.ServerEndPoint(80));
            var got = await ReadToEndAsync(c);
            c.Close();
            return got;
        });
        var received = await h.RunAsync(client, TimeSpan.FromMinutes(30));
        var counters = await h.RunAsync(server, TimeSpan.FromMinutes(30));
        Assert.That(received.Length, Is.EqualTo(file.Length));
        Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(file)));
        Assert.That(h.Link.A.Dropped + h.Link.B.Dropped, Is.GreaterThan(50), "the link really lost packets");
        Assert.That(counters.Retransmissions, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"{name}: dropped {h.Link.A.Dropped}+{h.Link.B.Dropped} packets, " +
            $"{counters.Retransmissions} retransmissions ({counters.Timeouts} timeouts, {counters.FastRetransmits} fast retransmits), virtual time {h.Clock.Elapsed.TotalSeconds:0.###} s");
    }

    [Test]
    public async Task SlowReader_ForcesZeroWindowProbes_TransferStillExact()
    {
        var opts = Options() with { Connection = Options().Connection with { ReceiveBufferSize = 4096 } };
        await using var h = new StackHarness(opts);
        using var listener = h.Server.Listen(80);
        var file = new byte[64 * 1024];
        new Random(5).NextBytes(file);
        var server = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            await s.WriteAsync(file);
            s.Close();
            await s.FlushAsync();
            return s.Counters;
        });
        var client = Task.Run(async () =>
        {
            var c = await h.Client.ConnectAsync(h.ServerEndPoint(80));
            var ms = new MemoryStream();
            var buf = new byte[4096];
            int n;
            // Reads a buffer's worth once a (virtual) second: the window sits at zero in between.
            while ((n = await c.ReadAsync(buf)) > 0)
            {
                ms.Write(buf, 0, n);
                await Task.Delay(TimeSpan.FromSeconds(1), h.Clock);
            }
            return ms.ToArray();
        });
        var got = await h.RunAsync(client, TimeSpan.FromMinutes(5));
        var counters = await h.RunAsync(server, TimeSpan.FromMinutes(5));
        Assert.That(got, Is.EqualTo(file));
        Assert.That(counters.ZeroWindowProbes, Is.GreaterThan(0));
        Assert.That(h.Clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(15)), "paced by the reader");
        TestContext.Out.WriteLine($"{counters.ZeroWindowProbes} zero-window probes, virtual {h.Clock.Elapsed.TotalSeconds:0.#} s");
    }

    [Test]
    public async Task NewSynOnTimeWaitTuple_StartsNewConnection()
    {
        // Client port reuse: a fixed one-port ephemeral range forces the same 4-tuple twice.
        var opts = Options() with { EphemeralPortFirst = 40000, EphemeralPortLast = 40000,
            Connection = Options().Connection with { TimeWait = TimeSpan.FromSeconds(60) } };
        await using var h = new StackHarness(opts);
        using var listener = h.Server.Listen(80);
        for (int round = 0; round < 2; round++)
        {
            var accept = listener.AcceptAsync();
            var c = await h.RunAsync(h.Client.ConnectAsync(h.ServerEndPoint(80)), TimeSpan.FromSeconds(200));
            var s = await h.RunAsync(accept, TimeSpan.FromSeconds(200));
            Assert.That(c.LocalEndPoint.Port, Is.EqualTo(40000));
            s.Close();                                    // the server closes first: it holds TIME-WAIT
            Assert.That(await h.RunAsync(c.ReadAsync(new byte[1]).AsTask(), TimeSpan.FromSeconds(200)), Is.Zero);
            c.Close();
            await h.RunAsync(s.WaitClosedAsync(), TimeSpan.FromSeconds(200));
            Assert.That(s.State, Is.EqualTo(TcpState.TimeWait));
            await h.RunAsync(Task.Run(async () => { while (h.Client.ConnectionCount > 0) await Task.Delay(1); }), TimeSpan.FromSeconds(200));
        }
        Assert.That(h.Server.Statistics.Connections, Is.EqualTo(2));
        Assert.That(h.Clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "did not wait for TIME-WAIT to expire");
    }
}
