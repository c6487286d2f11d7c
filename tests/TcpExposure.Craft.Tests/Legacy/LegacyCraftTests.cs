using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Tests.Legacy;

public class LegacyCraftTests
{
    private static readonly LegacyOption[] ExampleOptions =
    [
        new("MSS", 512L), new("SACKOK", ""), new("TIMESTAMP", 12345L, 0L), new("WSCALE", 3L), new("NOP", ""),
    ];

    private static byte[] ExampleSyn() => LegacyCraft.MakeSegment(
        LegacyCraft.ParseAddress("192.0.2.1"), LegacyCraft.ParseAddress("192.0.2.2"), 80, 55555, 8192, 20000, 0, 0x02,
        ExampleOptions, default, ipChecksum: true);

    [Test]
    public void ExampleSynSummarizesExactlyAsTheLegacyLine()
    {
        Assert.That(LegacyCraft.SummarizePkt(ExampleSyn()), Is.EqualTo(
            "192.0.2.2.55555 > 192.0.2.1.80: Flags [0x2], seq 20000, ack 0, win 8192, options [MSS, 512, SACKOK, TIMESTAMP, 12345, 0, WSCALE, 3, NOP, ], length 0, pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x4e09\n"));
    }

    [Test]
    public void ExampleSynHasLegacyIpFieldsAndValidChecksums()
    {
        var pkt = ExampleSyn();
        var parsed = LegacyCraft.ParseHeaders(pkt);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.Ip.id, Is.EqualTo(0x1234));
            Assert.That(parsed.Ip.ttl, Is.EqualTo(255));
            Assert.That(parsed.Ip.inith, Is.EqualTo(0x4500));
            Assert.That(parsed.Tcp.checksum, Is.EqualTo(0x4e09));
            Assert.That(TcpSegment.Parse(pkt).IsClean, Is.True);
        });
    }

    [Test]
    public void WithoutIpChecksumTheIpChecksumFieldIsZero()
    {
        var pkt = LegacyCraft.MakeSegment(1, 2, 80, 1000, 100, 1, 0, 0x02, [], default, ipChecksum: false);
        Assert.That(LegacyCraft.ParseHeaders(pkt).Ip.hdrcksum, Is.EqualTo(0));
    }

    [Test]
    public void ComposePadsWithNopsAndDecomposeReturnsEveryOption()
    {
        var bytes = LegacyCraft.ComposeOptions([new("MSS", 1460L), new("WSCALE", 7L)]);
        Assert.That(bytes, Is.EqualTo(new byte[] { 2, 4, 0x05, 0xB4, 3, 3, 7, 1 }));
        var back = LegacyCraft.DecomposeOptions(bytes);
        Assert.That(back.Select(o => o.ToString()), Is.EqualTo(new[] { "(MSS, 1460)", "(WSCALE, 7)", "(NOP, )" }));
    }

    [Test]
    public void OddLengthPayloadGetsAValidChecksum()
    {
        var pkt = LegacyCraft.MakeSegment(1, 2, 80, 1000, 100, 1, 0, 0x18, [], new byte[] { 1, 2, 3 }, ipChecksum: true);
        Assert.That(TcpSegment.Parse(pkt).IsClean, Is.True);
    }

    [Test]
    public void OptionsThatDoNotFitAreRefusedNotDropped()
    {
        var many = Enumerable.Repeat(new LegacyOption("TIMESTAMP", 1L, 2L), 5);
        Assert.That(() => LegacyCraft.ComposeOptions(many), Throws.ArgumentException.With.Message.Contains("at most 40"));
    }
}
