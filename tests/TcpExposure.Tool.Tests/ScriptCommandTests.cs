using TcpExposure.Tool.Bridge;
using TcpExposure.Tool.Commands;

namespace TcpExposure.Tool.Tests;

/// <summary>The script verb's command line and the Python bridge's error mapping (the scripts themselves run in tests/python).</summary>
public class ScriptCommandTests
{
    private static int Run(params string[] args)
    {
        var saved = Console.Error;
        Console.SetError(TextWriter.Null);
        try { return Program.Main(args); }
        finally { Console.SetError(saved); }
    }

    [Test]
    public void MissingScriptIsAUsageError() => Assert.That(Run("script", "/nonexistent/x.py"), Is.EqualTo(2));

    [Test]
    public void NoScriptIsAUsageError() => Assert.That(Run("script"), Is.EqualTo(2));

    [TestCase("ans, err = tcpsrlib.sendrecv_segments(daddr, (syn,))", true)]
    [TestCase("p.Pcap_open_live('eth0', 1500, 0, 10)", true)]
    [TestCase("print tcpsrlib.summarize_pkt(tcpsrlib.make_segment(1, 2, 3, 4, 5, 6, 7, 2))", false)]
    public void RawSocketUseIsRecognized(string source, bool needs) =>
        Assert.That(ScriptCommand.NeedsRawSockets(source), Is.EqualTo(needs));

    [Test]
    public void PythonModulesAreFoundFromTheBuild() =>
        Assert.That(File.Exists(Path.Combine(ScriptCommand.FindPythonModules()!, "tcpsrlib.py")), Is.True);

    [Test]
    public void ExceptionsMapToPythonClasses()
    {
        Assert.Multiple(() =>
        {
            Assert.That(BridgeResult.Classify(new ArgumentException("x")).Status, Is.EqualTo(BridgeStatus.ValueError));
            Assert.That(BridgeResult.Classify(new ArgumentException("Option MSS value 1 must be an integer, got 'x'.")).Status, Is.EqualTo(BridgeStatus.TypeError));
            Assert.That(BridgeResult.Classify(BridgePrivileges.NoRaw()).Status, Is.EqualTo(BridgeStatus.PermissionError));
            Assert.That(BridgeResult.Classify(new IOException("x")).Status, Is.EqualTo(BridgeStatus.OSError));
            Assert.That(BridgeResult.Classify(new AggregateException(new FormatException("f"))).Message, Is.EqualTo("f"));
            Assert.That(BridgeResult.Classify(new NullReferenceException()).Status, Is.EqualTo(BridgeStatus.RuntimeError));
        });
    }
}
