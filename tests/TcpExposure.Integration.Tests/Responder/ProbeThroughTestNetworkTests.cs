using TcpExposure.Craft.Transport;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Probe;
using TcpExposure.Responder.Stateless;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Responder;

/// <summary>
/// The probe suite against the responder on its batched fast path (recvmmsg/sendmmsg) over a
/// clean test network. The ground-truth matrix (every emulator and iptables behaviour, both
/// transports) is <see cref="Middlebox.ProbeThroughMiddleboxTests"/>.
/// </summary>
[NonParallelizable]
public sealed class ProbeThroughTestNetworkTests
{
    private const int Port = 8080;

    [SetUp]
    public void SetUp() => Root.Require();

    /// <summary>A running responder on srv and the cli-side transport, torn down together.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public required TestNetwork Network { get; init; }
        public required IPacketTransport ServerTransport { get; init; }
        public required IPacketTransport ClientTransport { get; init; }
        public required ResponderHost Host { get; init; }
        public required RstGuard Guard { get; init; }
        public required CancellationTokenSource Stop { get; init; }
        public required Task Loop { get; init; }
        public BatchedRawSockets? Batched { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync();
            try { await Loop; } catch (OperationCanceledException) { }
            Batched?.Dispose();
            await ClientTransport.DisposeAsync();
            await ServerTransport.DisposeAsync();
            Guard.Dispose();
            Network.Dispose();
            Stop.Dispose();
        }
    }

    private static Rig Start(TestNetworkOptions options, TransportKind kind, bool batched = false)
    {
        var net = TestNetwork.Create(options);
        try
        {
            var srv = net.Server;
            var cli = net.Client;
            var st = TransportFactory.Open(kind, srv.Namespace, cli.Address, filter: kind == TransportKind.Pcap ? $"tcp port {Port}" : null);
            var ct = TransportFactory.Open(kind, cli.Namespace, srv.Address, filter: kind == TransportKind.Pcap ? $"tcp and host {srv.Address}" : null);
            var guard = RstGuard.Create(srv.Address, Port, srv.Namespace);
            var sockets = batched ? BatchedRawSockets.Open(srv.Namespace, port: Port) : null;
            var host = sockets is null
                ? new ResponderHost(st, ResponderConfig.For(Port, srv.Address))
                : new ResponderHost(sockets, ResponderConfig.For(Port, srv.Address));
            var stop = new CancellationTokenSource();
            var loop = Task.Run(() => host.RunAsync(stop.Token));
            return new Rig { Network = net, ServerTransport = st, ClientTransport = ct, Host = host, Guard = guard, Stop = stop, Loop = loop, Batched = sockets };
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    private static Task<ProbeReport> Probe(Rig rig, params string[] tests) => ProbeSuite.RunAsync(rig.ClientTransport, new ProbeOptions
    {
        Target = new(rig.Network.Server.Address, Port),
        Netns = rig.Network.Client.Namespace,
        Tests = tests.Length == 0 ? null : tests,
        Timeout = TimeSpan.FromMilliseconds(300),
    });

    private static void AssertCodes(ProbeReport report, IReadOnlyDictionary<string, int> expected)
    {
        TestContext.Out.WriteLine(report.ToTable());
        Assert.Multiple(() =>
        {
            Assert.That(report.StoppedEarly, Is.Null);
            foreach (var (test, code) in expected)
            {
                var r = report[test];
                Assert.That(r, Is.Not.Null, $"{test} missing from the report");
                Assert.That(r!.Code, Is.EqualTo(code), $"{test}: {r.Meaning} ({r.Evidence})");
            }
        });
    }

    private static Dictionary<string, int> AllUnchanged() => ProbeTests.All.ToDictionary(t => t, _ => 0);

    [Test]
    public async Task CleanPathOnTheBatchedFastPathReportsEveryTestUnchanged()
    {
        // The `respond --via raw` path: recvmmsg/sendmmsg on the responder's own sockets.
        await using var rig = Start(new TestNetworkOptions(), TransportKind.Raw, batched: true);
        var report = await Probe(rig);
        Assert.That(report.Results.Select(r => r.Test), Is.EqualTo(ProbeTests.All));
        AssertCodes(report, AllUnchanged());
        Assert.That(rig.Host.Counters[ResponderVerdict.Answered], Is.GreaterThan(40));
        Assert.That(rig.Host.Counters.Sent, Is.GreaterThanOrEqualTo(rig.Host.Counters[ResponderVerdict.Answered]));
        Assert.That(rig.Host.Counters.SendFailures, Is.Zero);
        Assert.That(report.ToJson(), Does.Contain("\"test\": \"AckHole\""));
    }
}

/// <summary>The responder on the wire under a flood of malformed segments.</summary>
[NonParallelizable]
public sealed class ResponderFloodTests
{
    [SetUp]
    public void SetUp() => Root.Require();

    // batched: the `respond --via raw` fast path (RX ring, answers on the link); else the transport loop.
    [TestCase(false)]
    [TestCase(true)]
    public async Task MalformedFloodLeavesTheResponderAnsweringSyns(bool batched)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions());
        var srv = net.Server;
        var cli = net.Client;
        await using var st = batched ? null : TransportFactory.Open(TransportKind.Raw, srv.Namespace, cli.Address);
        using var sockets = batched ? BatchedRawSockets.Open(srv.Namespace, port: 8080) : null;
        await using var ct = TransportFactory.Open(TransportKind.Raw, cli.Namespace, srv.Address);
        using var guard = RstGuard.Create(srv.Address, 8080, srv.Namespace);
        var host = batched
            ? new ResponderHost(sockets!, ResponderConfig.For(8080, srv.Address))
            : new ResponderHost(st!, ResponderConfig.For(8080, srv.Address));
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => host.RunAsync(stop.Token));

        var src = new System.Net.IPEndPoint(cli.Address, 34567);
        var dst = new System.Net.IPEndPoint(srv.Address, 8080);
        var good = (Craft.Packets.TcpSegment.Create(src, dst, Craft.Wire.TcpFlags.Ack) with
        {
            Sequence = 1, Acknowledgment = 2, Payload = new byte[] { 0xa1, 1, 2, 3, 4 },
            Options = [new Craft.Options.TimestampsOption(1, 2)],
        }).ToArray();
        var bad = new List<byte[]>();
        for (int off = 0; off < 16; off++) { var p = (byte[])good.Clone(); p[32] = (byte)(off << 4); bad.Add(p); }
        foreach (byte len in new byte[] { 0, 1, 255 }) { var p = (byte[])good.Clone(); p[40] = 8; p[41] = len; bad.Add(p); }
        { var p = (byte[])good.Clone(); p[36] ^= 0x5a; bad.Add(p); } // wrong checksum
        bad.Add(good[..30]); // truncated TCP header (the kernel fixes the IP length on a raw send)
        const int rounds = 400;
        for (int i = 0; i < rounds; i++)
            foreach (var p in bad)
                await ct.SendAsync(p);

        var report = await ProbeSuite.RunAsync(ct, new ProbeOptions
        {
            Target = dst, Netns = cli.Namespace, Tests = [ProbeTests.Syn, ProbeTests.Data], Timeout = TimeSpan.FromMilliseconds(300),
        });
        await stop.CancelAsync();
        await loop;
        TestContext.Out.WriteLine(host.Counters.ToString());
        Assert.That(report[ProbeTests.Syn]!.Code, Is.EqualTo(0));
        Assert.That(report[ProbeTests.Data]!.Code, Is.EqualTo(0));
        // Most of the flood reached the loop and was refused, not answered.
        Assert.That(host.Counters.Received, Is.GreaterThan(rounds * bad.Count / 2));
        Assert.That(host.Counters[ResponderVerdict.Malformed] + host.Counters[ResponderVerdict.BadChecksum], Is.GreaterThan(rounds * 10));
    }
}
