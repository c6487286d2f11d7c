using TcpExposure.Tool;

namespace TcpExposure.Tool.Tests;

public class ExitCodeTests
{
    private const string Syn = "450000280001000040067ccd7f0000017f000001d4310050000000000000000050022000917c0000";

    [Test]
    public void UnknownVerbExitsTwo() => Assert.That(Program.Main(["no-such-verb"]), Is.EqualTo(2));

    [Test]
    public void HelpExitsZero() => Assert.That(Program.Main(["--help"]), Is.EqualTo(0));

    // inet_aton shorthands IPAddress.TryParse accepts ("1" = 0.0.0.1, "10.1" = 10.0.0.1, hex):
    // on a command line that sends packets they are typos.
    [TestCase("craft", "--src", "1:1", "--dst", "192.0.2.1:80", "--segment", "S 0:0(0)")]
    [TestCase("craft", "--src", "10.1:1", "--dst", "192.0.2.1:80", "--segment", "S 0:0(0)")]
    [TestCase("craft", "--src", "0x0a000001:1", "--dst", "192.0.2.1:80", "--segment", "S 0:0(0)")]
    [TestCase("probe", "1", "80")]
    [TestCase("probe", "192.0.2.1.5", "80")]
    [TestCase("respond", "--port", "80", "--addr", "10.1")]
    [TestCase("rst-guard", "--local", "127.1:80")]
    public void ShorthandAddressesAreUsageErrors(params string[] args)
    {
        var (exit, _, err) = ConsoleCapture.Run(args);
        Assert.That(exit, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("is not an I"));
    }

    [Test]
    public void AValueErrorPrintsTheVerbsUsage()
    {
        var (exit, _, err) = ConsoleCapture.Run("probe", "1", "80");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(err, Does.Contain("Usage of 'tcpexposure probe'").And.Contain("--tests").And.Contain("HOST (pos. 0)"));
    }

    [TestCase("--delay", "1e300")]
    [TestCase("--timeout", "1e300")]
    [TestCase("--timeout", "NaN")]
    [TestCase("--iface", "waytoolonginterfacename")]
    [TestCase("--iface", "a/b")]
    [TestCase("--netns", "a/b")]
    public void SendRejectsBadValuesBeforeTouchingTheNetwork(string option, string value)
    {
        var (exit, _, err) = ConsoleCapture.Run("send", "--hex", Syn, option, value);
        Assert.That(exit, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain(option));
    }

    [Test]
    public void SendToAMissingInterfaceSaysSoAndExitsOne()
    {
        if (Environment.UserName != "root")
            Assert.Ignore("opens a raw socket: needs root (CAP_NET_RAW)");
        var (exit, _, err) = ConsoleCapture.Run("send", "--hex", Syn, "--iface", "nosuchif0", "--timeout", "0");
        Assert.That(exit, Is.EqualTo(1), err);
        Assert.That(err, Does.Contain("no such interface").And.Contain("nosuchif0"));
    }
}
