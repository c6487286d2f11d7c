using System.Diagnostics;
using TcpExposure.Craft.Transport;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Stateless;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Responder;

/// <summary>
/// The `respond --via raw` fast path (TPACKET_V3 ring in, AF_PACKET answers on the link) under a
/// real SYN flood from hping3 in cli: it answers the flood, the answers reach cli through the
/// router, and the loop allocates nothing per packet.
/// </summary>
[NonParallelizable]
public sealed class FastPathFloodTests
{
    [SetUp]
    public void SetUp()
    {
        Root.Require();
        if (ExternalCommand.Find("hping3") is null)
            Assert.Ignore("Needs hping3 (scripts/setup.sh installs it).");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task SynFloodIsAnsweredWithoutAllocatingPerPacket(bool sendOnLink)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions());
        var srv = net.Server;
        using var sockets = BatchedRawSockets.Open(srv.Namespace, port: 8080, sendOnLink: sendOnLink);
        Assert.That(sockets.UsesRing, Is.True, "this kernel refused the TPACKET_V3 ring");
        Assert.That(sockets.SendsOnLink, Is.EqualTo(sendOnLink));
        using var guard = RstGuard.Create(srv.Address, 8080, srv.Namespace);
        var host = new ResponderHost(sockets, ResponderConfig.For(8080, srv.Address));
        using var stop = new CancellationTokenSource();
        var loop = host.RunAsync(stop.Token);

        // Warm up (JIT, first block) and measure what running hping3 from here allocates by itself.
        await Hping(net, "-S -p 8080 -c 3 -i u10000");
        long start = GC.GetTotalAllocatedBytes(precise: true);
        await Hping(net, "-S -p 8080 -c 3 -i u10000");
        long baseline = GC.GetTotalAllocatedBytes(precise: true) - start;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long answeredBefore = host.Counters[ResponderVerdict.Answered];
        string hping = await Hping(net, "--flood -S -p 8080", floodSeconds: 2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        long answered = host.Counters[ResponderVerdict.Answered] - answeredBefore;
        await stop.CancelAsync();
        await loop;
        TestContext.Out.WriteLine($"{host.Counters}; {allocated} bytes allocated in the process during the flood, {baseline} around a 3-packet run; hping3: {hping.Trim()}");

        Assert.That(answered, Is.GreaterThan(10_000), "the flood was answered");
        Assert.That(host.Counters.Sent, Is.EqualTo(host.Counters[ResponderVerdict.Answered]));
        Assert.That(host.Counters.SendFailures, Is.Zero);
        // Beyond what running a child process costs anyway, less than a byte per answer (one
        // object per packet would be 24+ bytes each); 64 KiB of slack for the runtime's own timers.
        Assert.That(allocated - baseline, Is.LessThan(answered + 65536));
    }

    /// <summary>
    /// The `respond` command end to end: it answers hping3's SYNs from cli, the kernel's TCP never
    /// sees them while it runs (the raw-table drop rule counts them), and SIGTERM prints the
    /// counters and removes its iptables rules.
    /// </summary>
    [Test]
    public async Task RespondCommandAnswersAndLeavesNoRulesBehind()
    {
        using var net = TestNetwork.Create(new TestNetworkOptions());
        var srv = net.Server;
        using var tool = Helpers.StartTool("respond", "--port", "8080", "--addr", srv.Address.ToString(), "--netns", srv.Namespace, "--duration", "60");
        Helpers.ReadLineContaining(tool.StandardError, "answering");
        string rawRules = ExternalCommand.RunChecked("iptables", ["-w", "-t", "raw", "-S", "PREROUTING"], srv.Namespace);
        Assert.That(rawRules, Does.Contain($"-d {srv.Address}/32 -p tcp -m tcp --dport 8080").And.Contain(":drop:"));

        string hping = await Hping(net, "-S -p 8080 -c 5 -i u20000");
        string counted = ExternalCommand.RunChecked("iptables", ["-w", "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"], srv.Namespace);
        Helpers.Signal(tool, "TERM");
        string counters = Helpers.ReadLineContaining(tool.StandardOutput, "respond: received");
        Assert.That(tool.WaitForExit(10_000), Is.True, "respond did not end on SIGTERM");
        TestContext.Out.WriteLine(hping);
        TestContext.Out.WriteLine(counted);
        TestContext.Out.WriteLine(counters);
        Assert.That(counters, Does.Contain("answered 5, sent 5"));
        Assert.That(ExternalCommand.RunChecked("iptables", ["-w", "-t", "raw", "-S"], srv.Namespace), Does.Not.Contain(RstGuard.TagPrefix));
        Assert.That(ExternalCommand.RunChecked("iptables", ["-w", "-S"], srv.Namespace), Does.Not.Contain(RstGuard.TagPrefix));
        Assert.That(hping, Does.Contain("5 packets transmitted, 5 packets received"));
        // The kernel saw none of them: all five SYNs (and cli's RSTs to our SYN-ACKs) hit the drop rule.
        var dropLine = counted.Split('\n').Single(l => l.Contains(":drop:", StringComparison.Ordinal));
        Assert.That(long.Parse(dropLine.TrimStart().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(5));
    }

    /// <summary>Runs hping3 in cli toward srv; with <paramref name="floodSeconds"/>, stops it after that long.</summary>
    private static async Task<string> Hping(TestNetwork net, string args, double floodSeconds = 0)
    {
        string timeout = floodSeconds > 0 ? $"timeout -s INT {floodSeconds} " : "";
        var psi = new ProcessStartInfo("sh", ["-c", $"ip netns exec {net.Client.Namespace} {timeout}hping3 -q {args} {net.Server.Address} 2>&1"])
        {
            RedirectStandardOutput = true,
        };
        using var p = Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return output;
    }
}
