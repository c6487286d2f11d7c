using TcpExposure.Craft.Transport;

namespace TcpExposure.Craft.Tests.Transport;

public class RstGuardParsingTests
{
    [Test]
    public void TokenizeHonoursQuotes() =>
        Assert.That(TaggedRule.Tokenize("-A OUTPUT -m comment --comment \"tcpexposure:1:2 x\" -j DROP"),
            Is.EqualTo(new[] { "-A", "OUTPUT", "-m", "comment", "--comment", "tcpexposure:1:2 x", "-j", "DROP" }));

    [Test]
    public void OwnerTagsJudgeByPidAndStartTime()
    {
        Assert.That(ProcessIdentity.IsOwnerAlive(ProcessIdentity.Current), Is.True);
        string[] parts = ProcessIdentity.Current.Split(':');
        Assert.That(ProcessIdentity.IsOwnerAlive($"{parts[0]}:{ulong.Parse(parts[1]) + 1}"), Is.False, "same PID, other start time: a reused PID");
        Assert.That(ProcessIdentity.IsOwnerAlive("999999999:1"), Is.False);
        Assert.That(ProcessIdentity.IsOwnerAlive("garbage"), Is.True, "never delete what we do not understand");
    }
}
