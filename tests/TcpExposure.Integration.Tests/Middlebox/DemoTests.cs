using TcpExposure.Integration.Tests.Testbed;
using static TcpExposure.Integration.Tests.Testbed.Helpers;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary><c>tcpexposure demo</c> end to end, as a user runs it: the report, the exit code, nothing left behind.</summary>
[NonParallelizable]
public class DemoTests
{
    [SetUp]
    public void SetUp() => Root.Require();

    private static (int Code, string Out, string Err) Demo(params string[] args)
    {
        using var p = StartTool(["demo", .. args]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(TimeSpan.FromSeconds(90)), Is.True, "demo did not finish in 90 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Test]
    public void TheDefaultShowsOptionStrippingAndSequenceRewritingAndCleansUp()
    {
        var (code, output, err) = Demo();
        Assert.That(code, Is.Zero, err);
        var prefix = System.Text.RegularExpressions.Regex.Match(output, @"test network (\S+):").Groups[1].Value;
        Assert.That(prefix, Is.Not.Empty, output);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("toward srv: option MPTCP (30) removed (SYN)"));
            Assert.That(output, Does.Contain("toward srv: sequence number shifted by +1000 (SYN, ACK, data, small, hole, FIN)"));
            Assert.That(output, Does.Contain("toward cli: acknowledgment number shifted by -1000"));
            // The probe suite's verdicts through the same box.
            Assert.That(output, Does.Match(@"SynOpt +3  option removed"));
            Assert.That(output, Does.Match(@"ChangeSeq +1 "));
            Assert.That(output, Does.Match(@"Data +0  data echoed"));
            Assert.That(err, Does.Contain("[1/7] building the test network").And.Contain("[7/7] tearing down"));
        });
        Assert.That(Namespaces(prefix + "-"), Is.Empty, "namespaces left behind");
    }

    [TestCase("split:256:first", "split into 4 segments (256+256+256+232 bytes), options on 1 of them (data)")]
    [TestCase("coalesce", "coalesced with what followed: 100 -> 300 bytes (small)")]
    [TestCase("proxy-ack", "segments srv never sent (an ACK on its behalf) (data, small, hole)")]
    [TestCase("drop-beyond-hole", "toward srv: dropped (hole, FIN)")]
    [TestCase("none", "the path left every segment unchanged")]
    public void EachBehaviourIsReported(string behaviour, string expected)
    {
        var (code, output, err) = Demo("--middlebox", behaviour, "-q");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain(expected));
    }

    [Test]
    public void ABadBehaviourIsAUsageError()
    {
        var (code, _, err) = Demo("--middlebox", "teleport");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("Unknown middlebox behaviour 'teleport'"));
    }
}
