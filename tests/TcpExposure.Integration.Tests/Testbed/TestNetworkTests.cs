using System.Globalization;
using System.Text.RegularExpressions;
using TcpExposure.Tool.Testbed;
using static TcpExposure.Integration.Tests.Testbed.Helpers;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>The test network against the kernel: reachability, kernel TCP, and every impairment.</summary>
public class TestNetworkTests
{
    private readonly List<TestNetwork> _networks = [];

    [SetUp]
    public void SetUp() => Root.Require();

    [TearDown]
    public void TearDown()
    {
        foreach (var n in _networks)
            n.Dispose();
        foreach (var n in _networks)
            Assert.That(Namespaces(n.Prefix + "-"), Is.Empty, $"namespaces of {n.Prefix} left behind");
        _networks.Clear();
    }

    private TestNetwork Build(TestNetworkOptions? options = null)
    {
        var n = TestNetwork.Create(options);
        _networks.Add(n);
        return n;
    }

    private static double PingLoss(TestNetwork net, string to, params string[] extra)
    {
        var r = net.Exec("cli", ["ping", "-q", .. extra, to], TimeSpan.FromSeconds(60));
        var m = Regex.Match(r.StandardOutput, @"([0-9.]+)% packet loss");
        Assert.That(m.Success, Is.True, $"ping printed no loss figure: {r.StandardOutput} {r.StandardError}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Test]
    public void CliReachesSrvThroughTheRouterOverIpv4AndIpv6()
    {
        var net = Build();
        Assert.That(net.Hosts.Select(h => h.Name), Is.EqualTo(new[] { "cli", "rtr", "srv" }));
        Assert.That(net.Server.Address.ToString(), Is.EqualTo("10.77.1.2"));
        Assert.That(PingLoss(net, net.Server.Address.ToString(), "-c", "3", "-i", "0.2", "-W", "2"), Is.Zero);
        Assert.That(PingLoss(net, net.Server.Address6.ToString(), "-c", "3", "-i", "0.2", "-W", "2"), Is.Zero);
        // The route really goes through rtr: the reply to a TTL-1 ping comes from rtr's address.
        var ttl1 = net.Exec("cli", "ping", "-c", "1", "-W", "2", "-t", "1", net.Server.Address.ToString());
        Assert.That(ttl1.StandardOutput, Does.Contain("From 10.77.0.2").And.Contain("Time to live exceeded"));
        // Nothing of it exists in our own namespace.
        Assert.That(ExternalCommandOutput("ip", "-br", "addr"), Does.Not.Contain("10.77."));
    }

    private static string ExternalCommandOutput(params string[] argv) =>
        Craft.Transport.ExternalCommand.RunChecked(argv[0], argv.Skip(1));

    [Test]
    public void AChainOfRoutersForwardsAndEachOneCostsATtl()
    {
        var net = Build(new TestNetworkOptions { Routers = 3, Mtu = 1400 });
        Assert.That(net.Hosts.Select(h => h.Name), Is.EqualTo(new[] { "cli", "rtr1", "rtr2", "rtr3", "srv" }));
        string srv = net.Server.Address.ToString();
        Assert.That(srv, Is.EqualTo("10.77.3.2"));
        Assert.That(PingLoss(net, srv, "-c", "1", "-W", "2", "-t", "4"), Is.Zero);
        Assert.That(PingLoss(net, srv, "-c", "1", "-W", "2", "-t", "3"), Is.EqualTo(100));
        Assert.That(PingLoss(net, net.Server.Address6.ToString(), "-c", "1", "-W", "2"), Is.Zero);
        Assert.That(net.ExecChecked("rtr2", "ip", "link", "show", "eth1"), Does.Contain("mtu 1400"));
        // Don't-fragment pings: 1372 bytes of payload fit in 1400, 1373 do not.
        Assert.That(PingLoss(net, srv, "-c", "1", "-W", "2", "-M", "do", "-s", "1372"), Is.Zero);
        Assert.That(net.Exec("cli", "ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1373", srv).Succeeded, Is.False);
    }

    [Test]
    public async Task KernelTcpCarriesBytesFromCliToSrv()
    {
        var net = Build();
        using var server = await net.StartListenerAsync("srv", 5000);
        string payload = string.Concat(Enumerable.Repeat("tcpexposure-", 5000)); // 60 kB, many segments
        using var client = net.StartProcess("cli", "nc", "-N", net.Server.Address.ToString(), "5000");
        await client.StandardInput.WriteAsync(payload);
        client.StandardInput.Close();
        string received = await server.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(received, Is.EqualTo(payload));
        Assert.That(client.WaitForExit(10000), Is.True);
        Assert.That(client.ExitCode, Is.Zero);
    }

    [Test]
    public async Task KernelTcpWorksOverIpv6Too()
    {
        var net = Build();
        using var server = await net.StartListenerAsync("srv", 5001, ipv6: true);
        using var client = net.StartProcess("cli", "nc", "-N", net.Server.Address6.ToString(), "5001");
        await client.StandardInput.WriteAsync("over ipv6");
        client.StandardInput.Close();
        Assert.That(await server.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo("over ipv6"));
    }

    [Test]
    public void FullLossTowardSrvBlocksAndTheRouterCountsTheDrops()
    {
        var net = Build(new TestNetworkOptions { LossToServer = 100 });
        Assert.That(PingLoss(net, net.Server.Address.ToString(), "-c", "3", "-i", "0.2", "-W", "1"), Is.EqualTo(100));
        Assert.That(PingLoss(net, net.Server.Address6.ToString(), "-c", "2", "-i", "0.2", "-W", "1"), Is.EqualTo(100));
        // The other direction is not impaired: srv's echo requests reach cli... and the replies die on the way back.
        string counters = net.ExecChecked("rtr", "iptables", "-L", "FORWARD", "-v", "-x", "-n");
        var drop = counters.Split('\n').Single(l => l.Contains("statistic") && l.Contains("eth0"));
        Assert.That(long.Parse(drop.Trim().Split(' ', 2)[0], CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(3));
        Assert.That(counters, Does.Not.Contain("eth1"), "only the cli->srv direction was asked for");
    }

    [Test]
    public void HalfLossEachWayLosesAboutThreeQuartersOfRoundTrips()
    {
        var net = Build(new TestNetworkOptions { LossToServer = 50, LossToClient = 50 });
        // 300 round trips; each survives with probability 0.25; +-4.5 standard deviations.
        double loss = PingLoss(net, net.Server.Address.ToString(), "-c", "300", "-i", "0.002", "-W", "1");
        Assert.That(loss, Is.InRange(62.0, 88.0));
    }

    /// <summary>
    /// Captures, on srv, the SYN cli's kernel sends to srv's listener, and returns the option
    /// kinds and MSS tshark found in it, plus what <c>ss -ti</c> on srv says about the connection.
    /// </summary>
    private static async Task<(string Kinds, string Mss, string SsInfo)> SynSeenBySrv(TestNetwork net, int port, bool v6 = false)
    {
        // The first segment cli sends to the port is its SYN (BPF's tcp[] cannot look into IPv6).
        using var tshark = await net.StartCaptureAsync("srv", "eth0", $"tcp dst port {port}",
            ["-c", "1", "-T", "fields", "-e", "tcp.option_kind", "-e", "tcp.options.mss_val", "-e", "tcp.flags.syn"]);
        using var server = await net.StartListenerAsync("srv", port, v6);
        using var client = net.StartProcess("cli", "nc", (v6 ? net.Server.Address6 : net.Server.Address).ToString(), port.ToString(CultureInfo.InvariantCulture));
        string fields = ReadLine(tshark.StandardOutput, 30);
        Assert.That(await WaitUntil(() => net.ExecChecked("srv", "ss", "-Htn", "state", "established", $"sport = :{port}").Length > 0), Is.True);
        // This ss prints the "ts sack" flags only together with -e.
        string ss = net.ExecChecked("srv", "ss", "-Htien", "state", "established", $"sport = :{port}");
        var parts = fields.Split('\t');
        Assert.That(parts[^1], Is.EqualTo("1").Or.EqualTo("True"), "the captured segment is the SYN");
        return (parts[0], parts.Length > 1 ? parts[1] : "", ss);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task WithoutImpairmentsTheSynKeepsTimestampsAndItsMss(bool v6)
    {
        var net = Build();
        var (kinds, mss, ss) = await SynSeenBySrv(net, 5010, v6);
        Assert.That(kinds.Split(','), Does.Contain("8").And.Contain("2"));
        Assert.That(mss, Is.EqualTo(v6 ? "1440" : "1460"));
        Assert.That(ss, Does.Match(@"\bts\b"));
        Assert.That(ss, Does.Contain(v6 ? "mss:1428" : "mss:1448"), "the MSS less 12 bytes of timestamps");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task TheRouterStripsTimestampsAndClampsTheMss(bool v6)
    {
        var net = Build(new TestNetworkOptions { StripOptions = [8], ClampMss = 500 });
        var (kinds, mss, ss) = await SynSeenBySrv(net, 5011, v6);
        Assert.That(kinds.Split(','), Does.Not.Contain("8"), $"option kinds seen by srv: {kinds}");
        Assert.That(kinds.Split(','), Does.Contain("2").And.Contain("4"), "other options pass");
        Assert.That(mss, Is.EqualTo("500"));
        Assert.That(ss, Does.Not.Match(@"\bts\b"), "the connection runs without timestamps");
        Assert.That(ss, Does.Match(@"\bsack\b"));
        Assert.That(ss, Does.Contain("mss:500"), "srv sends segments no larger than the clamped MSS");
    }

    [Test]
    public async Task NatHidesCliBehindTheRouter()
    {
        var net = Build(new TestNetworkOptions { Nat = true });
        using var server = await net.StartListenerAsync("srv", 5020);
        using var client = net.StartProcess("cli", "nc", net.Server.Address.ToString(), "5020");
        string est = "";
        Assert.That(await WaitUntil(() => (est = net.ExecChecked("srv", "ss", "-Htn", "state", "established", "sport = :5020")).Length > 0), Is.True);
        Assert.That(est, Does.Contain("10.77.1.1:").And.Not.Contain("10.77.0.1"));

        using var server6 = await net.StartListenerAsync("srv", 5021, ipv6: true);
        using var client6 = net.StartProcess("cli", "nc", net.Server.Address6.ToString(), "5021");
        Assert.That(await WaitUntil(() => (est = net.ExecChecked("srv", "ss", "-Htn", "state", "established", "sport = :5021")).Length > 0), Is.True);
        Assert.That(est, Does.Contain("[fd77:0:0:1::1]:").And.Not.Contain("fd77::1]"));
    }

    [Test]
    public async Task DisposeKillsItsProcessesAndRemovesEveryNamespace()
    {
        var net = TestNetwork.Create();
        try
        {
            Assert.That(Namespaces(net.Prefix + "-"), Has.Length.EqualTo(3));
            var sleeper = net.StartProcess("srv", "sleep", "600");
            // A process started behind our back (not through StartProcess) is found through `ip netns pids`.
            using var stray = System.Diagnostics.Process.Start(Craft.Transport.ExternalCommand.StartInfo("sleep", ["600"], net.Server.Namespace))!;
            Assert.That(await WaitUntil(() => net.ExecChecked("srv", "true") == "" && !sleeper.HasExited), Is.True);
            net.Dispose();
            Assert.That(Namespaces(net.Prefix + "-"), Is.Empty);
            Assert.That(stray.WaitForExit(5000), Is.True, "the stray process was killed");
            net.Dispose(); // idempotent
        }
        finally
        {
            net.Dispose();
        }
    }

    [Test]
    public void BadOptionsAreRejectedBeforeAnythingIsBuilt()
    {
        Assert.Throws<ArgumentException>(() => TestNetwork.Create(new TestNetworkOptions { Routers = 0 }));
        Assert.Throws<ArgumentException>(() => TestNetwork.Create(new TestNetworkOptions { LossToServer = 101 }));
        Assert.Throws<ArgumentException>(() => TestNetwork.Create(new TestNetworkOptions { StripOptions = [1] }));
        Assert.Throws<ArgumentException>(() => TestNetwork.Create(new TestNetworkOptions { Name = "bad/name" }));
        var net = Build(new TestNetworkOptions { Name = $"txdup{Environment.ProcessId}" });
        var e = Assert.Throws<InvalidOperationException>(() => TestNetwork.Create(new TestNetworkOptions { Name = net.Prefix }));
        Assert.That(e!.Message, Does.Contain("already exists"));
        Assert.That(Namespaces(net.Prefix + "-"), Has.Length.EqualTo(3), "the failed second build did not touch the first");
    }
}
