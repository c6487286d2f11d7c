using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using TcpExposure.Craft.Transport;
using TcpExposure.Tool.Testbed;
using static TcpExposure.Integration.Tests.Testbed.Helpers;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>
/// What other processes leave behind when they end: by a signal they handle (SIGTERM: they clean
/// up themselves) and by one they cannot (SIGKILL: the next start cleans up after them).
/// </summary>
public class ProcessCleanupTests
{
    private Process? _child;
    private string? _prefix;
    private ScratchNamespace? _ns;

    [SetUp]
    public void SetUp() => Root.Require();

    [TearDown]
    public void TearDown()
    {
        Reap(_child);
        if (_prefix is not null)
            TestNetwork.Destroy(_prefix);
        _ns?.Dispose();
    }

    /// <summary>Starts <c>testbed up --foreground</c> with a generated prefix and returns that prefix once it is up.</summary>
    private string StartForegroundTestbed()
    {
        _child = StartTool("testbed", "up", "--foreground");
        string first = ReadLine(_child.StandardOutput, 60);
        var m = Regex.Match(first, @"^test network (\S+):");
        Assert.That(m.Success, Is.True, $"unexpected first line: {first}");
        _prefix = m.Groups[1].Value;
        Assert.That(_prefix, Is.EqualTo($"tx{_child.Id}x1"));
        ReadLineContaining(_child.StandardError, "up in the foreground");
        return _prefix;
    }

    [Test]
    public void SigkilledTestbedLeavesNamespacesThatTheNextStartRemoves()
    {
        string prefix = StartForegroundTestbed();
        Assert.That(Namespaces(prefix + "-"), Has.Length.EqualTo(3));
        _child!.Kill(); // SIGKILL: no handler runs
        Assert.That(_child.WaitForExit(10000), Is.True);
        Assert.That(Namespaces(prefix + "-"), Has.Length.EqualTo(3), "nothing could clean up after a kill -9");

        // The next start (any process creating a test network) removes them.
        using (var next = TestNetwork.Create())
            Assert.That(Namespaces(prefix + "-"), Is.Empty);
        Assert.That(TestNetwork.RemoveStale(), Is.Zero);
    }

    [Test]
    public async Task SigtermedTestbedTearsItselfDown()
    {
        string prefix = StartForegroundTestbed();
        Signal(_child!, "TERM");
        Assert.That(_child!.WaitForExit(20000), Is.True);
        Assert.That(_child.ExitCode, Is.Zero);
        Assert.That(await WaitUntil(() => Namespaces(prefix + "-").Length == 0, 5), Is.True);
    }

    [Test]
    public void CtrlCTearsTheTestbedDownToo()
    {
        string prefix = StartForegroundTestbed();
        Signal(_child!, "INT");
        Assert.That(_child!.WaitForExit(20000), Is.True);
        Assert.That(Namespaces(prefix + "-"), Is.Empty);
    }

    /// <summary>Starts <c>rst-guard</c> for 127.0.0.1:PORT in a scratch namespace and waits until the rule is in.</summary>
    private string StartGuardProcess(int port)
    {
        _ns = new ScratchNamespace();
        _child = StartTool("rst-guard", "--local", $"127.0.0.1:{port}", "--netns", _ns.Name, "-q");
        string line = ReadLine(_child.StandardOutput, 60);
        var m = Regex.Match(line, @"(tcpexposure:\S+)$");
        Assert.That(m.Success, Is.True, line);
        Assert.That(RstGuard.ListTagged(_ns.Name).Single(), Does.Contain(m.Groups[1].Value).And.Contain($"--sport {port}"));
        return m.Groups[1].Value;
    }

    [TestCase("TERM")]
    [TestCase("INT")]
    public void ASignalToAProcessHoldingAGuardRemovesItsRule(string signal)
    {
        StartGuardProcess(7000);
        Signal(_child!, signal);
        Assert.That(_child!.WaitForExit(20000), Is.True);
        Assert.That(RstGuard.ListTagged(_ns!.Name), Is.Empty);
    }

    [Test]
    public void ASigkilledGuardsRuleIsRemovedByTheNextGuard()
    {
        StartGuardProcess(7001);
        _child!.Kill();
        Assert.That(_child.WaitForExit(10000), Is.True);
        Assert.That(RstGuard.ListTagged(_ns!.Name), Has.Count.EqualTo(1), "nothing could clean up after a kill -9");
        using (var next = RstGuard.Create(IPAddress.Loopback, 7002, _ns.Name))
            Assert.That(RstGuard.ListTagged(_ns.Name).Single(), Does.Contain(next.Comment));
        Assert.That(RstGuard.ListTagged(_ns.Name), Is.Empty);
    }

    [Test]
    public void AGuardProcessEndsNormallyWithoutItsRule()
    {
        _ns = new ScratchNamespace();
        _child = StartTool("rst-guard", "--local", "127.0.0.1:7003", "--netns", _ns.Name, "--duration", "0.3");
        Assert.That(_child.WaitForExit(30000), Is.True);
        string stderr = _child.StandardError.ReadToEnd();
        Assert.That(_child.ExitCode, Is.Zero, stderr);
        Assert.That(stderr, Does.Contain("rule removed"));
        Assert.That(RstGuard.ListTagged(_ns.Name), Is.Empty);
    }
}
