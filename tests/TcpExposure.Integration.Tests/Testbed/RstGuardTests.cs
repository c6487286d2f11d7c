using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

public class RstGuardTests
{
    private ScratchNamespace? _ns;

    [SetUp]
    public void SetUp()
    {
        Root.Require();
        _ns = new ScratchNamespace();
    }

    [TearDown]
    public void TearDown() => _ns?.Dispose();

    /// <summary>
    /// Connects in the namespace to a closed loopback port: the kernel answers the SYN with an
    /// RST (connection refused at once) unless the guard drops it (then the connect times out).
    /// </summary>
    private SocketError ConnectToClosedPort(IPAddress address, int port)
    {
        using var s = NetworkNamespace.Run(_ns!.Name, () => new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        try
        {
            s.ConnectAsync(new IPEndPoint(address, port), timeout.Token).AsTask().GetAwaiter().GetResult();
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }

    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    public void GuardDropsTheKernelsRstAndOneEscapesWithoutIt(string addr)
    {
        var address = IPAddress.Parse(addr);
        const int port = 4711;
        Assert.That(ConnectToClosedPort(address, port), Is.EqualTo(SocketError.ConnectionRefused), "without a guard the kernel's RST arrives");

        using (var guard = RstGuard.Create(address, port, _ns!.Name))
        {
            Assert.That(RstGuard.ListTagged(_ns.Name, address.AddressFamily == AddressFamily.InterNetworkV6).Single(), Does.Contain(guard.Comment));
            Assert.That(ConnectToClosedPort(address, port), Is.EqualTo(SocketError.TimedOut), "with the guard no RST escapes");
            Assert.That(guard.DroppedPackets, Is.GreaterThanOrEqualTo(1));
            // Another port is not guarded.
            Assert.That(ConnectToClosedPort(address, port + 1), Is.EqualTo(SocketError.ConnectionRefused));
            using (guard.Suspend())
                Assert.That(ConnectToClosedPort(address, port), Is.EqualTo(SocketError.ConnectionRefused));
            Assert.That(ConnectToClosedPort(address, port), Is.EqualTo(SocketError.TimedOut), "the guard is back after Suspend");
        }
        Assert.That(RstGuard.ListTagged(_ns.Name, address.AddressFamily == AddressFamily.InterNetworkV6), Is.Empty);
        Assert.That(ConnectToClosedPort(address, port), Is.EqualTo(SocketError.ConnectionRefused));
    }

    [Test]
    public void RemoveStaleDeletesRulesOfDeadOwnersOnly()
    {
        // A process that has exited: its tag is stale.
        using var p = Process.Start(new ProcessStartInfo("true"))!;
        p.WaitForExit();
        string dead = $"{RstGuard.TagPrefix}{p.Id}:{12345}:rst:1";
        string alive = $"{RstGuard.TagPrefix}{ProcessIdentity.Current}:rst:999";
        foreach (var tag in new[] { dead, alive })
            _ns!.Exec("iptables", "-w", "-I", "OUTPUT", "-p", "tcp", "--sport", "9", "--tcp-flags", "RST", "RST", "-m", "comment", "--comment", tag, "-j", "DROP");
        Assert.That(RstGuard.ListTagged(_ns!.Name), Has.Count.EqualTo(2));
        Assert.That(RstGuard.RemoveStale(_ns.Name), Is.EqualTo(1));
        Assert.That(RstGuard.ListTagged(_ns.Name).Single(), Does.Contain(alive));
    }

    [Test]
    public void IngressDropRuleSweepsTheRawTableAndRemovesItsOwnRule()
    {
        using var p = Process.Start(new ProcessStartInfo("true"))!;
        p.WaitForExit();
        string dead = $"{TaggedRule.TagPrefix}{p.Id}:{12345}:drop:1";
        _ns!.Exec("iptables", "-w", "-t", "raw", "-I", "PREROUTING", "-p", "tcp", "--dport", "9", "-m", "comment", "--comment", dead, "-j", "DROP");
        string RawRules() => ExternalCommand.RunChecked("iptables", ["-w", "-t", "raw", "-S", "PREROUTING"], _ns.Name);
        Assert.That(RawRules(), Does.Contain(dead));
        using (TcpExposure.Responder.Hosting.IngressDropRule.Create(IPAddress.Parse("127.0.0.1"), 8080, _ns.Name))
        {
            string rules = RawRules();
            Assert.That(rules, Does.Not.Contain(dead), "the killed owner's rule is swept");
            Assert.That(rules, Does.Contain("-d 127.0.0.1/32 -p tcp -m tcp --dport 8080").And.Contain(":drop:"));
        }
        Assert.That(RawRules(), Does.Not.Contain(TaggedRule.TagPrefix));
    }

    [Test]
    public void BadArgumentsAndMissingNamespaceFailClearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RstGuard.Create(IPAddress.Loopback, 0));
        var e = Assert.Throws<InvalidOperationException>(() => RstGuard.Create(IPAddress.Loopback, 80, "txs-no-such-namespace"));
        Assert.That(e!.Message, Does.Contain("does not exist"));
    }
}
