using TcpExposure.Craft.Transport;

namespace TcpExposure.Craft.Tests.Transport;

public class PrivilegesTests
{
    [Test]
    public void ParsesCapEffFromStatusText()
    {
        const string status = "Name:\tdotnet\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000003000\nCapBnd:\t000001ffffffffff\n";
        ulong? mask = Privileges.ParseCapEff(status);
        Assert.That(mask, Is.EqualTo(0x3000UL));
        Assert.That(Privileges.Has(mask!.Value, Capability.NetRaw), Is.True);
        Assert.That(Privileges.Has(mask.Value, Capability.NetAdmin), Is.True);
        Assert.That(Privileges.Has(mask.Value, Capability.SysAdmin), Is.False);
    }

    [TestCase("Name:\tx\n")]
    [TestCase("CapEff:\tzz\n")]
    [TestCase("")]
    public void MissingOrMalformedCapEffIsNull(string status) =>
        Assert.That(Privileges.ParseCapEff(status), Is.Null);

    [Test]
    public void MessageNamesTheCapabilityAndTheRemedy()
    {
        string m = Privileges.Message("Sending over a raw socket", Capability.NetRaw);
        Assert.That(m, Does.StartWith("Sending over a raw socket needs CAP_NET_RAW: run as root or grant it with"));
        Assert.That(m, Does.Contain("sudo setcap cap_net_raw,cap_net_admin+ep"));
    }

    [Test]
    public void EffectiveSetMatchesProcStatus()
    {
        string text = File.ReadAllText("/proc/self/status");
        Assert.That(Privileges.EffectiveCapabilities(), Is.EqualTo(Privileges.ParseCapEff(text)));
    }
}
