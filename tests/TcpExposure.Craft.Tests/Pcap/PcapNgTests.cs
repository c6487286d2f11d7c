using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Tests.CrossCheck;

namespace TcpExposure.Craft.Tests.Pcap;

public class PcapNgTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 5, 30, 0, TimeSpan.Zero);

    private static void WriteClassic(string path, LinkType linkType, bool nanosecond, IEnumerable<byte[]> frames)
    {
        using var w = new PcapWriter(File.Create(path), linkType, nanosecond);
        int i = 0;
        foreach (var f in frames)
            w.Write(f, T0.AddTicks(i++ * 10_001));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void PcapngWrittenByEditcapReadsLikeTheClassicOriginal(bool nanosecond)
    {
        var editcap = ExternalTool.Require("editcap", "tshark (wireshark-common)");
        using var dir = new TempDir();
        string pcap = dir.File("in.pcap"), ng = dir.File("out.pcapng");
        var frames = Enumerable.Range(0, 20).Select(i => i % 3 == 0 ? Samples.Data6(i) : Samples.Syn4(i)).ToList();
        WriteClassic(pcap, LinkType.Raw, nanosecond, frames);
        ExternalTool.Run(editcap, ["-F", "pcapng", pcap, ng]);

        var original = PcapReader.ReadFile(pcap).ToList();
        var converted = PcapReader.ReadFile(ng).ToList();
        Assert.That(converted, Has.Count.EqualTo(frames.Count));
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.That(converted[i].Data.ToArray(), Is.EqualTo(frames[i]), $"packet {i}");
            Assert.That(converted[i].LinkType, Is.EqualTo(LinkType.Raw));
            Assert.That(converted[i].Timestamp, Is.EqualTo(original[i].Timestamp), $"packet {i}");
            Assert.That(converted[i].OriginalLength, Is.EqualTo(frames[i].Length));
        }
    }

    [Test]
    public void MergecapPcapngWithTwoLinkTypesKeepsEachInterfacesType()
    {
        var mergecap = ExternalTool.Require("mergecap", "tshark (wireshark-common)");
        using var dir = new TempDir();
        string raw = dir.File("raw.pcap"), eth = dir.File("eth.pcap"), ng = dir.File("both.pcapng");
        WriteClassic(raw, LinkType.Raw, false, [Samples.Syn4(1), Samples.Syn4(2)]);
        WriteClassic(eth, LinkType.Ethernet, true, [Samples.Ethernet(Samples.Data6(5))]);
        ExternalTool.Run(mergecap, ["-F", "pcapng", "-w", ng, raw, eth]);

        var records = PcapReader.ReadFile(ng).ToList();
        Assert.That(records, Has.Count.EqualTo(3));
        Assert.That(records.Count(r => r.LinkType == LinkType.Raw), Is.EqualTo(2));
        var e = records.Single(r => r.LinkType == LinkType.Ethernet);
        Assert.That(LinkLayer.TryGetIpPacket(e.LinkType, e.Data.Span, out var ip), Is.True);
        Assert.That(ip.ToArray(), Is.EqualTo(Samples.Data6(5)));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EitherByteOrderSeveralInterfacesTsresolAndSkippedBlocks(bool bigEndian)
    {
        var a = Samples.Syn4(3);
        var b = Samples.Ethernet(Samples.Data6(9));
        var c = Samples.Data6(1);
        var file = new PcapNgBuilder(bigEndian)
            .Section()
            .Unknown(0x00000BAD, 12)                       // custom block: skipped
            .Interface(101)                                // default resolution: microseconds
            .Interface(1, tsresol: 9)                      // nanoseconds
            .Interface(229, snap: 40, tsresol: 0x80 | 10, tsoffset: 100) // 2^-10 s, offset 100 s, snap 40
            .Enhanced(0, 1_700_000_000_123_456UL, a)
            .Unknown(5, 24)                                // interface statistics: skipped
            .Enhanced(1, 1_700_000_000_123_456_789UL, b)
            .Enhanced(2, (1_700_000_000UL << 10) + 512, c[..40], (uint)c.Length)
            .ToArray();

        var r = PcapReader.Read(new MemoryStream(file)).ToList();
        Assert.That(r, Has.Count.EqualTo(3));
        Assert.That(r.Select(x => x.LinkType), Is.EqualTo(new[] { LinkType.Raw, LinkType.Ethernet, LinkType.Ipv6 }));
        Assert.That(r[0].Data.ToArray(), Is.EqualTo(a));
        Assert.That(r[1].Data.ToArray(), Is.EqualTo(b));
        Assert.That(r[2].Data.ToArray(), Is.EqualTo(c[..40]));
        Assert.That(r[2].OriginalLength, Is.EqualTo(c.Length));
        var epoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.That(r[0].Timestamp, Is.EqualTo(epoch.AddTicks(1_234_560)));
        Assert.That(r[1].Timestamp, Is.EqualTo(epoch.AddTicks(1_234_567)));
        Assert.That(r[2].Timestamp, Is.EqualTo(epoch.AddSeconds(100.5)));
    }

    [Test]
    public void SimplePacketBlocksUseInterfaceZeroAndItsSnapLength()
    {
        var p = Samples.Data6(100);
        var file = new PcapNgBuilder(false).Section().Interface(101, snap: 64)
            .Simple(p[..64], (uint)p.Length)
            .Simple(Samples.Syn4())
            .ToArray();
        var r = PcapReader.Read(new MemoryStream(file)).ToList();
        Assert.That(r, Has.Count.EqualTo(2));
        Assert.That(r[0].Data.ToArray(), Is.EqualTo(p[..64]));
        Assert.That(r[0].OriginalLength, Is.EqualTo(p.Length));
        Assert.That(r[1].Data.ToArray(), Is.EqualTo(Samples.Syn4()));
    }

    [Test]
    public void ANewSectionMayChangeByteOrderAndForgetsInterfaces()
    {
        var first = new PcapNgBuilder(false).Section().Interface(101).Enhanced(0, 0, Samples.Syn4(1)).ToArray();
        var second = new PcapNgBuilder(true).Section().Interface(1).Enhanced(0, 0, Samples.Ethernet(Samples.Syn4(2))).ToArray();
        var r = PcapReader.Read(new MemoryStream([.. first, .. second])).ToList();
        Assert.That(r.Select(x => x.LinkType), Is.EqualTo(new[] { LinkType.Raw, LinkType.Ethernet }));

        var orphan = new PcapNgBuilder(true).Section().Enhanced(0, 0, Samples.Syn4()).ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => PcapReader.Read(new MemoryStream([.. first, .. orphan])).ToList());
        Assert.That(ex!.Message, Does.Contain("interface 0"));
    }
}
