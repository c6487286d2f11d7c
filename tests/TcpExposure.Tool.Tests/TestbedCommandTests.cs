using System.Net;
using TcpExposure.Craft.Transport;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Tool.Tests;

/// <summary>The testbed and rst-guard verbs' command lines, and the test network's addressing plan (nothing is built).</summary>
public class TestbedCommandTests
{
    private static int Run(params string[] args)
    {
        var saved = Console.Error;
        Console.SetError(TextWriter.Null);
        try { return Program.Main(args); }
        finally { Console.SetError(saved); }
    }

    [TestCase("testbed")]
    [TestCase("testbed", "sideways")]
    [TestCase("testbed", "up", "--loss", "101")]
    [TestCase("testbed", "up", "--loss", "abc")]
    [TestCase("testbed", "up", "--routers", "0")]
    [TestCase("testbed", "up", "--strip-option", "1")]
    [TestCase("testbed", "up", "--strip-option", "300")]
    [TestCase("testbed", "up", "--mtu", "100")]
    [TestCase("testbed", "up", "--name", "has/slash")]
    [TestCase("testbed", "up", "--impaired-router", "2")]
    [TestCase("testbed", "up", "extra")]
    [TestCase("testbed", "exec", "cli")]
    [TestCase("rst-guard")]
    [TestCase("rst-guard", "--local", "10.0.0.1")]
    [TestCase("rst-guard", "--local", "10.0.0.1:0")]
    [TestCase("rst-guard", "--local", "10.0.0.1:80", "--duration", "-1")]
    [TestCase("rst-guard", "--local", "10.0.0.1:80", "--netns", "a/b")]
    public void BadCommandLinesExitTwo(params string[] args) => Assert.That(Run(args), Is.EqualTo(2));

    [TestCase("testbed", "--help")]
    [TestCase("rst-guard", "--help")]
    public void HelpExitsZero(params string[] args)
    {
        var saved = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try { Assert.That(Program.Main(args), Is.EqualTo(0)); }
        finally { Console.SetOut(saved); }
        Assert.That(output.ToString(), Does.Contain("--local").Or.Contain("--strip-option"));
    }

    [Test]
    public void ExecOnANetworkThatIsNotUpExitsOne()
    {
        string saved = TestbedState.Directory;
        TestbedState.Directory = Path.Combine(Path.GetTempPath(), $"txstate{Environment.ProcessId}");
        try { Assert.That(Run("testbed", "exec", "--name", "txnotup", "cli", "--", "true"), Is.EqualTo(1)); }
        finally { TestbedState.Directory = saved; }
    }

    [Test]
    public void StateRoundTripsThroughItsFile()
    {
        string saved = TestbedState.Directory;
        TestbedState.Directory = Path.Combine(Path.GetTempPath(), $"txstate{Environment.ProcessId}x{Guid.NewGuid():N}");
        try
        {
            var options = new TestNetworkOptions { Name = "txrt", Routers = 2, LossToServer = 2.5, StripOptions = [8, 30], ClampMss = 536, Nat = true, Mtu = 1400 };
            new TestbedState("txrt", options, 42, DateTimeOffset.UnixEpoch).Save();
            var back = TestbedState.Load("txrt");
            Assert.That(back, Is.Not.Null);
            Assert.That(back!.Options.StripOptions, Is.EqualTo(new[] { 8, 30 }));
            Assert.That(back.Options with { StripOptions = options.StripOptions }, Is.EqualTo(options));
            Assert.That(TestbedState.All(), Is.EqualTo(new[] { "txrt" }));
            Assert.That(TestbedState.Delete("txrt"), Is.True);
            Assert.That(TestbedState.Load("txrt"), Is.Null);
        }
        finally
        {
            if (Directory.Exists(TestbedState.Directory))
                Directory.Delete(TestbedState.Directory, true);
            TestbedState.Directory = saved;
        }
    }

    [Test]
    public void AChainIsAddressedLinkByLink()
    {
        var net = TestNetwork.Attach("txplan", new TestNetworkOptions { Routers = 3 });
        Assert.That(net.Hosts.Select(h => h.Namespace), Is.EqualTo(new[] { "txplan-cli", "txplan-rtr1", "txplan-rtr2", "txplan-rtr3", "txplan-srv" }));
        Assert.That(net.Client.Address, Is.EqualTo(IPAddress.Parse("10.77.0.1")));
        Assert.That(net.Server.Address, Is.EqualTo(IPAddress.Parse("10.77.3.2")));
        Assert.That(net.Server.Address6, Is.EqualTo(IPAddress.Parse("fd77:0:0:3::2")));
        var rtr2 = net["rtr2"];
        Assert.That(rtr2.Interfaces.Select(i => (i.Name, i.Address.ToString(), i.Peer)),
            Is.EqualTo(new[] { ("eth0", "10.77.1.2", "rtr1"), ("eth1", "10.77.2.1", "rtr3") }));
        Assert.That(net["rtr"].Name, Is.EqualTo("rtr1"));
        Assert.Throws<ArgumentException>(() => _ = net["nope"]);
        Assert.That(net.Describe(), Does.Contain("txplan-rtr3").And.Contain("10.77.3.1/24"));
    }

    [Test]
    public void PrivilegeMessagesNameTheCapability() =>
        Assert.That(Privileges.Message("Building the test network", Capability.SysAdmin), Does.Contain("CAP_SYS_ADMIN").And.Contain("run as root"));
}
