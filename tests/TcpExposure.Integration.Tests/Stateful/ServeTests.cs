using System.Globalization;
using TcpExposure.Craft.Transport;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Stateful;

/// <summary>
/// <c>tcpexposure serve</c> in srv of a test network, fetched by the kernel's TCP (wget, curl, nc)
/// in cli through a router that drops packets at random in each direction.
/// </summary>
[TestFixture, NonParallelizable]
public class ServeTests
{
    private const int Port = 8080;
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        Root.Require();
        _dir = ServeFixture.TempDir();
    }

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private const int FileBytes = 10 << 20;

    /// <summary>
    /// The matrix: wget, curl and nc fetch 10 MB with 0, 5, 10 and 20% loss each way over
    /// raw sockets (TCP super-packets through AF_PACKET) and over libpcap; and the plain
    /// per-segment raw path (--no-offload) once. 10% and 20% are in the "slow" category.
    /// </summary>
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (string via in new[] { "raw", "pcap" })
            foreach (double loss in new[] { 0.0, 5.0, 10.0, 20.0 })
                foreach (string client in new[] { "curl", "wget", "nc" })
                    yield return Case(client, loss, via);
        yield return Case("nc", 5.0, "raw-no-offload");
    }

    private static TestCaseData Case(string client, double loss, string via)
    {
        var data = new TestCaseData(client, loss, via).SetName($"KernelClientFetchesTheFile({client},{loss}%,{via})");
        return loss >= 10 ? data.SetCategory("slow") : data;
    }

    /// <summary>Seconds a fetch may take: generous, since 20% loss each way means long RTO backoffs.</summary>
    private static int Limit(double loss) => loss switch { 0 => 120, <= 5 => 600, <= 10 => 1200, _ => 1800 };

    [TestCaseSource(nameof(Cases)), CancelAfter(2_000_000)]
    public void KernelClientFetchesTheFile(string client, double loss, string via)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = loss, LossToClient = loss });
        bool http = client != "nc";
        string file = ServeFixture.MakeFile(_dir, FileBytes, http);
        string got = Path.Combine(_dir, "got.bin");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int limit = Limit(loss);
        // At 20% each way a retransmission and its ACK both fail a third of the time, so runs of RTO
        // backoffs can leave nothing acknowledged for minutes; like Linux (tcp_retries2, ~15 min),
        // neither serve nor the client gives up that early here.
        string userTimeout = Math.Max(120, limit).ToString(CultureInfo.InvariantCulture);
        var serve = via == "raw-no-offload"
            ? ServeFixture.StartServe(net, file, Port, "raw", "--count", "1", "--no-offload", "--user-timeout", userTimeout)
            : ServeFixture.StartServe(net, file, Port, via, "--count", "1", "--user-timeout", userTimeout);
        string url = $"http://{net.Server.Address}:{Port}/";
        string[] command = client switch
        {
            "curl" => ["curl", "-s", "-S", "--max-time", limit.ToString(CultureInfo.InvariantCulture), "-o", got, url],
            "wget" => ["wget", "-q", "-T", limit.ToString(CultureInfo.InvariantCulture), "-t", "1", "-O", got, url],
            _ => ["sh", "-c", $"nc -N {net.Server.Address} {Port} </dev/null >{got}"],
        };
        var result = net.Exec("cli", command, TimeSpan.FromSeconds(limit + 10));
        var (stdout, stderr) = ServeFixture.WaitExit(serve, 120);
        Assert.That(result.Succeeded, Is.True, $"{client} failed ({result.ExitCode}): {result.StandardError}\nserve: {stderr}");
        string expected = ServeFixture.Md5(http ? Path.Combine(_dir, "body.bin") : file);
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(expected), $"{client} got {new FileInfo(got).Length} bytes; serve: {stderr}");
        Assert.That(ServeFixture.Counter(stdout, "connections"), Is.EqualTo(1));
        Assert.That(ServeFixture.Counter(stdout, "bytes-sent"), Is.EqualTo(new FileInfo(file).Length));
        if (loss > 0)
            Assert.That(ServeFixture.Counter(stdout, "retransmissions"), Is.GreaterThan(0), "loss without a retransmission");
        // Raw sockets offload by default: back-to-back segments leave as super-packets the kernel cuts up.
        if (via == "raw")
            Assert.That(ServeFixture.Counter(stdout, "segments-merged"), Is.GreaterThan(0), "no segment went out in a super-packet");
        else
            Assert.That(ServeFixture.Counter(stdout, "segments-merged"), Is.Zero);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{client} via {via}, {loss}% loss, {FileBytes} bytes in {watch.Elapsed.TotalSeconds:F1} s: {stdout.Trim()}"));
    }

    /// <summary>
    /// Each congestion control at 5% loss each way: BBR (the model-based one, serve's default)
    /// keeps its window through random loss; NewReno and CUBIC halve theirs (or less) every episode.
    /// </summary>
    [TestCase("Bbr"), TestCase("NewReno"), TestCase("Cubic"), CancelAfter(700_000)]
    public void KernelClientFetchesWithEachCongestionControlAtFivePercentLoss(string cc)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = 5, LossToClient = 5 });
        string file = ServeFixture.MakeFile(_dir, FileBytes, http: false);
        string got = Path.Combine(_dir, "got.bin");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var serve = ServeFixture.StartServe(net, file, Port, "raw", "--count", "1", "--cc", cc);
        var result = net.Exec("cli", ["sh", "-c", $"nc -N {net.Server.Address} {Port} </dev/null >{got}"], TimeSpan.FromSeconds(Limit(5) + 10));
        var (stdout, stderr) = ServeFixture.WaitExit(serve, 120);
        Assert.That(result.Succeeded, Is.True, $"nc failed ({result.ExitCode}): {result.StandardError}\nserve: {stderr}");
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(ServeFixture.Md5(file)), stderr);
        Assert.That(ServeFixture.Counter(stdout, "bytes-sent"), Is.EqualTo(FileBytes));
        Assert.That(ServeFixture.Counter(stdout, "retransmissions"), Is.GreaterThan(0), "loss without a retransmission");
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"--cc {cc}, 5% loss, {FileBytes} bytes in {watch.Elapsed.TotalSeconds:F1} s: {stdout.Trim()}"));
    }

    [TestCase(0.0), TestCase(5.0), CancelAfter(700_000)]
    public void KernelClientFetchesOverIpv6WithSuperPackets(double loss)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = loss, LossToClient = loss });
        string file = ServeFixture.MakeFile(_dir, FileBytes, http: false);
        string got = Path.Combine(_dir, "got.bin");
        string addr = net.Server.Address6.ToString();
        var serve = ServeFixture.StartServe(net, file, Port, "raw", "--count", "1", "--addr", addr);
        var result = net.Exec("cli", ["sh", "-c", $"nc -N {addr} {Port} </dev/null >{got}"], TimeSpan.FromSeconds(Limit(loss) + 10));
        var (stdout, stderr) = ServeFixture.WaitExit(serve, 120);
        Assert.That(result.Succeeded, Is.True, $"nc failed ({result.ExitCode}): {result.StandardError}\nserve: {stderr}");
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(ServeFixture.Md5(file)), stderr);
        Assert.That(ServeFixture.Counter(stdout, "bytes-sent"), Is.EqualTo(FileBytes));
        Assert.That(ServeFixture.Counter(stdout, "segments-merged"), Is.GreaterThan(0), "no IPv6 super-packet");
        TestContext.Out.WriteLine($"IPv6, {loss}% loss: {stdout.Trim()}");
    }

    [CancelAfter(180_000)]
    [TestCase("raw"), TestCase("pcap")]
    public void SlowReaderForcesZeroWindowProbingAndCompletes(string via)
    {
        using var net = TestNetwork.Create();
        // A small receive buffer in cli, and a reader that takes 16 KB then pauses 0.5 s (longer
        // than serve's RTO): the kernel's window stays closed and serve has to probe it.
        net.ExecChecked("cli", "sysctl", "-q", "-w", "net.ipv4.tcp_rmem=4096 4096 8192");
        string file = ServeFixture.MakeFile(_dir, 128 << 10, http: false);
        string got = Path.Combine(_dir, "got.bin");
        var serve = ServeFixture.StartServe(net, file, Port, via, "--count", "1");
        string reader = $"import sys,time\nsrc=sys.stdin.buffer\nout=open('{got}','wb')\nwhile True:\n b=src.read1(16384)\n if not b: break\n out.write(b); time.sleep(0.5)\nout.close()\n";
        string script = Path.Combine(_dir, "slow.py");
        File.WriteAllText(script, reader);
        var result = net.Exec("cli", ["sh", "-c", $"nc -N {net.Server.Address} {Port} </dev/null | /usr/bin/python3 {script}"], TimeSpan.FromSeconds(150));
        var (stdout, stderr) = ServeFixture.WaitExit(serve, 60);
        Assert.That(result.Succeeded, Is.True, result.StandardError);
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(ServeFixture.Md5(file)));
        Assert.That(ServeFixture.ZeroWindowProbes(stderr), Is.GreaterThan(0), stderr);
        TestContext.Out.WriteLine(stderr);
    }

    [Test, CancelAfter(120_000)]
    public void ServesSeveralClientsAtOnce()
    {
        using var net = TestNetwork.Create();
        string file = ServeFixture.MakeFile(_dir, 1 << 20, http: true);
        var serve = ServeFixture.StartServe(net, file, Port, "raw", "--count", "3");
        var fetches = Enumerable.Range(0, 3).Select(i => Task.Run(() =>
            net.Exec("cli", ["curl", "-s", "-S", "--max-time", "60", "-o", Path.Combine(_dir, $"got{i}.bin"), $"http://{net.Server.Address}:{Port}/"], TimeSpan.FromSeconds(90)))).ToArray();
        Task.WaitAll(fetches);
        var (stdout, stderr) = ServeFixture.WaitExit(serve, 60);
        string expected = ServeFixture.Md5(Path.Combine(_dir, "body.bin"));
        for (int i = 0; i < 3; i++)
        {
            Assert.That(fetches[i].Result.Succeeded, Is.True, fetches[i].Result.StandardError + stderr);
            Assert.That(ServeFixture.Md5(Path.Combine(_dir, $"got{i}.bin")), Is.EqualTo(expected));
        }
        Assert.That(ServeFixture.Counter(stdout, "connections"), Is.EqualTo(3));
        Assert.That(ServeFixture.Counter(stdout, "bytes-sent"), Is.EqualTo(3 * new FileInfo(file).Length));
    }

    [Test, CancelAfter(120_000)]
    public void SigtermPrintsCountersAndRemovesTheRstGuard()
    {
        using var net = TestNetwork.Create();
        string file = ServeFixture.MakeFile(_dir, 100_000, http: false);
        var serve = ServeFixture.StartServe(net, file, Port);
        Assert.That(RstGuard.ListTagged(net.Server.Namespace), Has.Some.Contains($"--sport {Port}"));
        var fetch = net.Exec("cli", ["sh", "-c", $"nc -N {net.Server.Address} {Port} </dev/null | wc -c"], TimeSpan.FromSeconds(60));
        Assert.That(fetch.StandardOutput.Trim(), Is.EqualTo("100000"));
        Helpers.Signal(serve, "TERM");
        var (stdout, _) = ServeFixture.WaitExit(serve, 30);
        Assert.That(ServeFixture.Counter(stdout, "connections"), Is.EqualTo(1));
        Assert.That(ServeFixture.Counter(stdout, "bytes-sent"), Is.EqualTo(100_000));
        Assert.That(RstGuard.ListTagged(net.Server.Namespace), Is.Empty);
    }

    [Test]
    public void PcapWithoutPeerIsAUsageError()
    {
        var p = Helpers.StartTool("serve", "--port", "8080", "--file", "/etc/hostname", "--via", "pcap");
        Assert.That(p.WaitForExit(30_000), Is.True);
        Assert.That(p.ExitCode, Is.EqualTo(2));
        Assert.That(p.StandardError.ReadToEnd(), Does.Contain("--peer"));
    }

    [Test]
    public void BadPortIsAUsageError()
    {
        var p = Helpers.StartTool("serve", "--port", "70000", "--file", "/etc/hostname");
        Assert.That(p.WaitForExit(30_000), Is.True);
        Assert.That(p.ExitCode, Is.EqualTo(2));
        Assert.That(p.StandardError.ReadToEnd(), Does.Contain("--port"));
    }
}
