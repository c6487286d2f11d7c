using System.Buffers.Binary;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Tests.Pcap;

public class PcapRoundTripTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 5, 30, 0, TimeSpan.Zero);

    private static byte[] Write(LinkType linkType, bool nanosecond, IEnumerable<(byte[] Frame, DateTimeOffset Time)> frames, int snap = 262144)
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, linkType, nanosecond, snap, leaveOpen: true))
            foreach (var (f, t) in frames)
                w.Write(f, t);
        return ms.ToArray();
    }

    [TestCase(false, 10)]      // microseconds keep 1 us = 10 ticks
    [TestCase(true, 1)]        // nanoseconds keep every 100-ns tick
    public void RawIpRoundTripKeepsBytesTimesAndLinkType(bool nanosecond, long tickResolution)
    {
        var frames = Enumerable.Range(0, 50)
            .Select(i => (i % 2 == 0 ? Samples.Syn4(i) : Samples.Data6(i * 7 + 1), T0.AddTicks(i * 1_234_567)))
            .ToList();
        var file = Write(LinkType.Raw, nanosecond, frames);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(file), Is.EqualTo(nanosecond ? 0xA1B23C4D : 0xA1B2C3D4));

        var records = PcapReader.Read(new MemoryStream(file)).ToList();
        Assert.That(records, Has.Count.EqualTo(frames.Count));
        for (int i = 0; i < frames.Count; i++)
        {
            var expected = frames[i].Item2.UtcTicks / tickResolution * tickResolution;
            Assert.That(records[i].Data.ToArray(), Is.EqualTo(frames[i].Item1), $"record {i}");
            Assert.That(records[i].Timestamp.UtcTicks, Is.EqualTo(expected), $"record {i}");
            Assert.That(records[i].LinkType, Is.EqualTo(LinkType.Raw));
            Assert.That(records[i].OriginalLength, Is.EqualTo(frames[i].Item1.Length));
            Assert.That(TcpSegment.Parse(records[i].Data.Span).IsClean, Is.True);
        }
    }

    [Test]
    public void EthernetRoundTripFindsTheIpPacket()
    {
        var ips = new[] { Samples.Syn4(), Samples.Data6(33) };
        var file = Write(LinkType.Ethernet, false, ips.Select((ip, i) => (Samples.Ethernet(ip), T0.AddSeconds(i))));
        var records = PcapReader.Read(new MemoryStream(file)).ToList();
        Assert.That(records, Has.Count.EqualTo(2));
        for (int i = 0; i < 2; i++)
        {
            Assert.That(records[i].LinkType, Is.EqualTo(LinkType.Ethernet));
            Assert.That(LinkLayer.TryGetIpOffset(LinkType.Ethernet, records[i].Data.Span, out int offset), Is.True);
            Assert.That(offset, Is.EqualTo(14));
            Assert.That(records[i].Data.Span[offset..].ToArray(), Is.EqualTo(ips[i]));
        }
    }

    [Test]
    public void SnapLengthCutsFramesButKeepsTheOriginalLength()
    {
        var ip = Samples.Data6(200);
        var file = Write(LinkType.Raw, false, [(ip, T0)], snap: 64);
        var r = PcapReader.Read(new MemoryStream(file)).Single();
        Assert.That(r.Data.ToArray(), Is.EqualTo(ip[..64]));
        Assert.That(r.OriginalLength, Is.EqualTo(ip.Length));
        Assert.That(r.IsTruncated, Is.True);
    }

    [Test]
    public void FileHeaderIsClassicVersion24WithLinkTypeAndSnapLength()
    {
        var file = Write(LinkType.LinuxSll2, false, [], snap: 1500);
        Assert.That(file, Has.Length.EqualTo(24));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)), Is.EqualTo(2));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6)), Is.EqualTo(4));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16)), Is.EqualTo(1500));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)), Is.EqualTo(276));
        Assert.That(PcapReader.Read(new MemoryStream(file)), Is.Empty);
    }

    [Test]
    public void TimestampsOutsideClassicRangeAreRefused()
    {
        using var w = new PcapWriter(new MemoryStream(), LinkType.Raw);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Write(Samples.Syn4(), new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero)));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Write(Samples.Syn4(), new DateTimeOffset(2107, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void WritingAfterDisposeThrowsAndLeaveOpenKeepsTheStream()
    {
        var ms = new MemoryStream();
        var w = new PcapWriter(ms, LinkType.Raw, leaveOpen: true);
        w.Dispose();
        Assert.Throws<ObjectDisposedException>(() => w.Write(Samples.Syn4(), T0));
        Assert.That(ms.CanWrite, Is.True);
        var ms2 = new MemoryStream();
        new PcapWriter(ms2, LinkType.Raw).Dispose();
        Assert.That(ms2.CanWrite, Is.False);
    }

    [Test]
    public void CreateAndReadFileOnDisk()
    {
        using var dir = new TempDir();
        var path = dir.File("a.pcap");
        using (var w = PcapWriter.Create(path, LinkType.Ipv4))
        {
            w.Write(Samples.Syn4(1), T0);
            w.Write(Samples.Syn4(2), T0.AddMilliseconds(1));
            w.Flush();
        }
        var records = PcapReader.ReadFile(path).ToList();
        Assert.That(records.Select(r => r.Data.ToArray()), Is.EqualTo(new[] { Samples.Syn4(1), Samples.Syn4(2) }));
        Assert.That(records[1].Timestamp - records[0].Timestamp, Is.EqualTo(TimeSpan.FromMilliseconds(1)));
        Assert.That(records.All(r => r.LinkType == LinkType.Ipv4));
    }

    [Test]
    public void WritingAPacketAllocatesNothing()
    {
        var frame = Samples.Syn4();
        var ms = new MemoryStream(1 << 20);
        using var w = new PcapWriter(ms, LinkType.Raw, leaveOpen: true);
        for (int i = 0; i < 100; i++) w.Write(frame, T0); // warm up the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) w.Write(frame, T0);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ByteSwappedClassicFilesAreRead(bool nanosecond)
    {
        // A big-endian file, as a SPARC or PowerPC host writes it.
        var ip = Samples.Syn4();
        var file = new byte[24 + 16 + ip.Length];
        var s = file.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(s, nanosecond ? 0xA1B23C4D : 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16BigEndian(s[4..], 2);
        BinaryPrimitives.WriteUInt16BigEndian(s[6..], 4);
        BinaryPrimitives.WriteUInt32BigEndian(s[16..], 65535);
        BinaryPrimitives.WriteUInt32BigEndian(s[20..], 101);
        BinaryPrimitives.WriteUInt32BigEndian(s[24..], 1_700_000_000);
        BinaryPrimitives.WriteUInt32BigEndian(s[28..], nanosecond ? 123_456_700u : 123_456u);
        BinaryPrimitives.WriteUInt32BigEndian(s[32..], (uint)ip.Length);
        BinaryPrimitives.WriteUInt32BigEndian(s[36..], (uint)ip.Length);
        ip.CopyTo(s[40..]);

        var r = PcapReader.Read(new MemoryStream(file)).Single();
        Assert.That(r.LinkType, Is.EqualTo(LinkType.Raw));
        Assert.That(r.Data.ToArray(), Is.EqualTo(ip));
        var expected = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(nanosecond ? 1_234_567 : 1_234_560);
        Assert.That(r.Timestamp, Is.EqualTo(expected));
    }
}
