using System.Text.Json;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Packets;
using static TcpExposure.Craft.Tests.Format.SegmentNotationTests;

namespace TcpExposure.Craft.Tests.Format;

public class SummaryTests
{
    [Test]
    public void DrillLineOfTheLegacyExampleSyn()
        => Assert.That(DrillSummary.Format(LegacyExampleSyn()), Is.EqualTo(ExampleLine));

    [Test]
    public void TcpdumpLineOfTheLegacyExampleSyn()
        => Assert.That(TcpdumpSummary.Format(LegacyExampleSyn()), Is.EqualTo(
            "IP 192.0.2.2.55555 > 192.0.2.1.80: Flags [S], seq 20000, win 8192, options [mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop], length 0"));

    [Test]
    public void LegacyLineComesFromTheLegacySummarizer()
        => Assert.That(PacketSummary.Format(LegacyExampleSyn(), SummaryFormat.Legacy), Is.EqualTo(
            "192.0.2.2.55555 > 192.0.2.1.80: Flags [0x2], seq 20000, ack 0, win 8192, options [MSS, 512, SACKOK, TIMESTAMP, 12345, 0, WSCALE, 3, NOP, ], length 0, pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x4e09"));

    [Test]
    public void TcpdumpLineOfADataSegmentAndOfIpv6()
    {
        var data = SegmentNotation.Parse("P. 1:513(512) ack 9 win 502", Client, Server);
        Assert.That(TcpdumpSummary.Format(data), Is.EqualTo("IP 192.0.2.2.55555 > 192.0.2.1.80: Flags [P.], seq 1:513, ack 9, win 502, length 512"));
        var ack = SegmentNotation.Parse(". 1:1(0) ack 9 win 502", Client6, Server6);
        Assert.That(TcpdumpSummary.Format(ack), Is.EqualTo("IP6 2001:db8::2.55555 > 2001:db8::1.80: Flags [.], ack 9, win 502, length 0"));
    }

    [Test]
    public void TcpdumpLineShowsAWrongChecksumWithTheRightOne()
    {
        var seg = SegmentNotation.Parse(ExampleLine + " ttl 255 id 0x1234 csum 0x1111", Client, Server);
        Assert.That(TcpdumpSummary.Format(seg), Does.Contain("Flags [S], cksum 0x1111 (incorrect -> 0x4e09), seq 20000"));
    }

    [Test]
    public void PacketsThatAreNotTcpGetADescriptionNotAnException()
    {
        byte[] udp = Convert.FromHexString("450000200000000040110000c0000202c00002010035003500080000");
        Assert.That(TcpdumpSummary.Format(udp), Is.EqualTo("IP 192.0.2.2 > 192.0.2.1: ip-proto-17, length 8"));
        Assert.That(DrillSummary.Format(udp), Is.EqualTo("# IP 192.0.2.2 > 192.0.2.1: ip-proto-17, length 8"));
        Assert.That(TcpdumpSummary.Format(new byte[] { 1, 2, 3 }), Is.EqualTo("not an IPv4 or IPv6 packet (3 bytes)"));
        Assert.That(PacketSummary.Format(new byte[] { 1, 2, 3 }, SummaryFormat.Legacy), Does.StartWith("# "));
        using var doc = JsonDocument.Parse(JsonSummary.Format(udp));
        Assert.That(doc.RootElement.GetProperty("problems")[0].GetString(), Does.Contain("not TCP"));
    }

    [Test]
    public void JsonCarriesEveryFieldAndTypedOptions()
    {
        using var doc = JsonDocument.Parse(JsonSummary.Format(LegacyExampleSyn()));
        var root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("ip").GetProperty("src").GetString(), Is.EqualTo("192.0.2.2"));
            Assert.That(root.GetProperty("ip").GetProperty("id").GetInt32(), Is.EqualTo(0x1234));
            Assert.That(root.GetProperty("ip").GetProperty("ttl").GetInt32(), Is.EqualTo(255));
            var tcp = root.GetProperty("tcp");
            Assert.That(tcp.GetProperty("seq").GetUInt32(), Is.EqualTo(20000u));
            Assert.That(tcp.GetProperty("checksum").GetString(), Is.EqualTo("0x4e09"));
            Assert.That(tcp.GetProperty("checksumValid").GetBoolean(), Is.True);
            Assert.That(tcp.GetProperty("flags").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "SYN" }));
            var opts = root.GetProperty("options").EnumerateArray().ToList();
            Assert.That(opts.Select(o => o.GetProperty("name").GetString()), Is.EqualTo(new[] { "mss", "sackOK", "timestamps", "wscale", "nop" }));
            Assert.That(opts[0].GetProperty("value").GetInt32(), Is.EqualTo(512));
            Assert.That(opts[2].GetProperty("val").GetUInt32(), Is.EqualTo(12345u));
            Assert.That(opts[2].GetProperty("notation").GetString(), Is.EqualTo("TS val 12345 ecr 0"));
            Assert.That(root.GetProperty("problems").GetArrayLength(), Is.EqualTo(0));
        });
    }

    [Test]
    public void JsonReportsMalformedOptionsAndBadChecksums()
    {
        var seg = SegmentNotation.Parse("S 0:0(0) <mss 1460,kind 8 len 30 data 0102> csum 0x1", Client, Server);
        using var doc = JsonDocument.Parse(JsonSummary.Format(seg));
        var root = doc.RootElement;
        var bad = root.GetProperty("options").EnumerateArray().Last();
        Assert.Multiple(() =>
        {
            Assert.That(bad.GetProperty("malformed").GetBoolean(), Is.True);
            Assert.That(bad.GetProperty("problem").GetString(), Is.EqualTo("RunsPastHeader"));
            var problems = root.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
            Assert.That(problems, Has.Some.Contains("TCP checksum is wrong"));
            Assert.That(problems, Has.Some.Contains("option kind 8"));
        });
    }

    [Test]
    public void DrillLineOfAMalformedOptionReadsBackToTheSameBytes()
    {
        // Three bytes of a timestamps option that claims 30: the padding byte is read as part of it.
        var seg = SegmentNotation.Parse("S 0:0(0) win 5 <mss 1460,kind 8 len 30 data 01>", Client, Server);
        string line = DrillSummary.Format(seg);
        Assert.That(line, Is.EqualTo("S 0:0(0) win 5 <mss 1460,kind 8 len 30 data 0100>"));
        Assert.That(SegmentNotation.Parse(line, Client, Server).ToArray(), Is.EqualTo(seg.ToArray()));
    }

    [Test]
    public void SeededMutationsNeverThrowFromAnySummary()
    {
        var rng = new Random(42);
        var baseBytes = LegacyExampleSyn();
        for (int i = 0; i < 5000; i++)
        {
            var b = (byte[])baseBytes.Clone();
            int flips = 1 + rng.Next(6);
            for (int j = 0; j < flips; j++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            var cut = b.AsSpan(0, rng.Next(b.Length + 1)).ToArray();
            foreach (var f in Enum.GetValues<SummaryFormat>())
                Assert.That(PacketSummary.Format(cut, f), Is.Not.Empty);
        }
    }
}
