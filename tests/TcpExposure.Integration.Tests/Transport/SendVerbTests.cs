using System.Diagnostics;
using System.Net;
using System.Text.Json;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Transport;

/// <summary>The <c>tcpexposure send</c> command as a user runs it: privileged in the test network, and unprivileged.</summary>
[TestFixture]
[NonParallelizable]
public sealed class SendVerbTests
{
    private static string ToolDll => Path.Combine(AppContext.BaseDirectory, "tcpexposure.dll");

    private static (int Exit, string Out, string Err) Tool(string? asUser, params string[] args)
    {
        var psi = new ProcessStartInfo(asUser is null ? "dotnet" : "setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asUser is not null)
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "dotnet" })
                psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(ToolDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // An unprivileged dotnet wants a writable home for its first-run files.
        psi.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(60_000), Is.True, "tcpexposure did not finish");
        return (p.ExitCode, o.Result, e.Result);
    }

    private static string SynHex(IPAddress src, IPAddress dst, int sport, int dport)
        => Convert.ToHexString((TcpSegment.Create(new IPEndPoint(src, sport), new IPEndPoint(dst, dport), TcpFlags.Syn) with { Sequence = 777, Window = 1024 }).ToArray());

    [Test]
    public void UnprivilegedRunSaysCapNetRawAndExitsOne()
    {
        if (Environment.UserName != "root")
            Assert.Ignore("Needs root to drop to nobody with setpriv.");
        var (exit, output, error) = Tool("nobody", "send", "--hex", SynHex(IPAddress.Loopback, IPAddress.Loopback, 40001, 9), "--timeout", "0.1");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(error, Does.Contain("CAP_NET_RAW").And.Contain("run as root"));
            Assert.That(error.Trim().Split('\n'), Has.Length.EqualTo(1), "one sentence");
            Assert.That(output, Is.Empty);
        });
    }

    [Test]
    public void BadTransportIsAUsageError()
    {
        var (exit, _, error) = Tool(null, "send", "--via", "carrier-pigeon", "--hex", "4500");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--via"));
    }

    [TestCase("raw")]
    [TestCase("pcap")]
    public void SendInTheTestNetworkPrintsTheSynAck(string via)
    {
        Root.Require();
        using var net = TestNetwork.Create(new TestNetworkOptions());
        int port = 5555, sport = 40000 + Random.Shared.Next(10000);
        using var nc = net.StartProcess("srv", "nc", "-l", net.Server.Address.ToString(), port.ToString());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!net.ExecChecked("srv", "ss", "-Hltn", $"sport = :{port}").Contains($":{port}", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        string pcap = Path.Combine(Path.GetTempPath(), $"send-verb-{Environment.ProcessId}-{via}.pcap");
        try
        {
            var (exit, output, error) = Tool(null, "send", "--netns", net.Client.Namespace, "--via", via, "--until", "synack", "--timeout", "2",
                "--json", "--pcap", pcap, "--hex", SynHex(net.Client.Address, net.Server.Address, sport, port));
            Assert.That(exit, Is.EqualTo(0), error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.That(lines.Select(l => l.GetProperty("dir").GetString()), Is.EqualTo(new[] { "sent", "recv" }));
            var answer = SegmentParser.Parse(Convert.FromHexString(lines[1].GetProperty("hex").GetString()!)).Segment!;
            Assert.That(answer.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
            Assert.That(answer.Acknowledgment.Value, Is.EqualTo(778u));
            Assert.That(new FileInfo(pcap).Length, Is.GreaterThan(24 + 2 * 16 + 80), "both packets in the capture file");
            Assert.That(RstGuard.ListTagged(net.Client.Namespace), Is.Empty, "the RST guard was removed on exit");
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Test]
    public void SegmentNotationHandshakeStartPrintsTheNegotiatedOptions()
    {
        Root.Require();
        using var net = TestNetwork.Create(new TestNetworkOptions());
        using var nc = net.StartProcess("srv", "nc", "-l", net.Server.Address.ToString(), "5556");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!net.ExecChecked("srv", "ss", "-Hltn", "sport = :5556").Contains(":5556", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        var (exit, output, error) = Tool(null, "send", "--netns", net.Client.Namespace, "--dst", $"{net.Server.Address}:5556", "--src", ":45678",
            "--segment", "S 0:0(0) win 8192 <mss 1300,sackOK,TS val 100 ecr 0,nop,wscale 7>", "--segment", "R 1:1(0)", "--delay", "0.05", "--timeout", "0.3");
        Assert.That(exit, Is.EqualTo(0), error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("sent").And.Contain($"{net.Client.Address}.45678 > {net.Server.Address}.5556: Flags [S]"));
        Assert.That(lines[1], Does.StartWith("recv").And.Contain("Flags [S.]").And.Contain("ack 1,").And.Contain("mss 1460,sackOK,TS val").And.Contain("ecr 100"));
        Assert.That(lines[2], Does.StartWith("sent").And.Contain("Flags [R]"));
        Assert.That(lines[3], Does.StartWith("2 sent, 1 answer"));
        // Our crafted RST got through the guard: the server's socket is gone.
        Assert.That(net.ExecChecked("srv", "ss", "-Htn", "sport = :5556"), Does.Not.Contain("SYN-RECV"));
    }
}
