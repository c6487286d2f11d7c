using TcpExposure.Tool;

namespace TcpExposure.Tool.Tests;

public class ExitCodeTests
{
    [Test]
    public void UnknownVerbExitsTwo() => Assert.That(Program.Main(["no-such-verb"]), Is.EqualTo(2));

    [Test]
    public void HelpExitsZero() => Assert.That(Program.Main(["--help"]), Is.EqualTo(0));
}
