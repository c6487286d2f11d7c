using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Tool.Testbed;
using static TcpExposure.Integration.Tests.Testbed.Helpers;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary><c>tcpexposure middlebox</c> as a separate process on a plain test network's router.</summary>
[NonParallelizable]
public class MiddleboxCommandTests
{
    [SetUp]
    public void SetUp() => Root.Require();

    [Test]
    public async Task TheVerbForwardsThroughItsBehaviourAndRemovesItsRulesOnSigterm()
    {
        using var net = TestNetwork.Create();
        string rtr = net["rtr"].Namespace;
        using var p = StartTool("middlebox", "--netns", rtr, "--left", "eth0", "--right", "eth1", "--behaviour", "seq-offset:5000");
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(ReadLine(p.StandardOutput), Does.Contain("middlebox seq-offset:5000 between eth0 and eth1"));
        Assert.That(ExternalCommand.RunChecked("iptables", ["-w", "-S", "FORWARD"], rtr), Does.Contain("tcpexposure-mb-" + p.Id));

        await using var cli = net.Run("cli", () => new RawSocketTransport(new() { Interface = "eth0" }));
        var syn = Craft.Packets.TcpSegment.Create(new(net.Client.Address, 23456), new(net.Server.Address, 80), TcpFlags.Syn) with { Sequence = 1000 };
        var result = await SendReceive.RunAsync(cli, [syn], new SendReceiveOptions { Timeout = TimeSpan.FromSeconds(2), Until = StopCondition.Rst });
        // srv's kernel resets the SYN (ack 6001 in its numbering); the box shifts the ack back.
        var rst = result.Answers.Select(a => a.Segment).Single(s => s is not null && s.DestinationPort == 23456)!;
        Assert.That(rst.Flags.Has(TcpFlags.Rst), Is.True);
        Assert.That(rst.Acknowledgment.Value, Is.EqualTo(1001u));

        Signal(p, "TERM");
        Assert.That(p.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(await stderr, Does.Contain("toward srv 1 in / 1 out; toward cli 1 in / 1 out"));
        Assert.That(ExternalCommand.RunChecked("iptables", ["-w", "-S", "FORWARD"], rtr), Does.Not.Contain("tcpexposure-mb-"));
        // The kernel forwards again.
        var again = await SendReceive.RunAsync(cli, [syn with { SourcePort = 23457 }], new SendReceiveOptions { Timeout = TimeSpan.FromSeconds(2), Until = StopCondition.Rst });
        Assert.That(again.Answers.Select(a => a.Segment).Single(s => s is not null && s.DestinationPort == 23457)!.Acknowledgment.Value, Is.EqualTo(1001u));
    }

    [Test]
    public void ABadBehaviourIsAUsageError()
    {
        using var p = StartTool("middlebox", "--behaviour", "split:0");
        var err = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(p.ExitCode, Is.EqualTo(2));
        Assert.That(err.Result, Does.Contain("split size"));
    }
}
