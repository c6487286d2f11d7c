using System.Buffers.Binary;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Stateless;
using static TcpExposure.Responder.Tests.Stateless.StatelessResponderTests;

namespace TcpExposure.Responder.Tests.Stateless;

public sealed class MalformedFloodTests
{
    /// <summary>Malformed variants of a valid data segment: every one must be refused or answered, never thrown on.</summary>
    internal static List<byte[]> MalformedPackets()
    {
        var good = Seg(TcpFlags.Ack, 1, 2, [0xa1, 1, 2, 3, 4], new TimestampsOption(1, 2)).ToArray();
        var list = new List<byte[]>();
        byte[] Copy() => (byte[])good.Clone();
        // Data offsets 0..15.
        for (int off = 0; off < 16; off++)
        {
            var p = Copy();
            p[32] = (byte)(off << 4);
            list.Add(p);
        }
        // Option lengths 0, 1, 255 and a kind with no length byte, with a correct TCP checksum so
        // that they get past the checksum check to the option parser.
        foreach (byte len in new byte[] { 0, 1, 255, 3, 11 })
        {
            var p = Copy();
            p[40] = TcpOptionKind.Timestamps;
            p[41] = len;
            list.Add(FixTcpChecksum(p));
            var q = Copy();
            q[40] = TcpOptionKind.Mptcp;
            q[41] = len;
            list.Add(FixTcpChecksum(q));
        }
        var noLen = Copy();
        noLen.AsSpan(40, 12).Fill(1);
        noLen[51] = 30;
        list.Add(FixTcpChecksum(noLen));
        // Truncated at every length.
        for (int n = 0; n < good.Length; n++)
            list.Add(good[..n]);
        // Wrong checksums, wrong IP lengths and header lengths.
        var bad = Copy();
        bad[36] ^= 0xff;
        list.Add(bad);
        foreach (ushort total in new ushort[] { 0, 19, 39, 41, 1000, 65535 })
        {
            var p = Copy();
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), total);
            list.Add(p);
        }
        foreach (byte ihl in new byte[] { 0x40, 0x44, 0x46, 0x4f, 0x65, 0x00, 0xff })
        {
            var p = Copy();
            p[0] = ihl;
            list.Add(p);
        }
        return list;
    }

    internal const int OptionCases = 11; // the option-length packets above, after the 16 data offsets

    /// <summary>Recomputes the TCP checksum of an IPv4 packet with a 20-byte IP header.</summary>
    private static byte[] FixTcpChecksum(byte[] p)
    {
        var tcp = p.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.ComputeTransport(
            Checksum.PseudoHeaderSumV4(p.AsSpan(12, 4), p.AsSpan(16, 4), 6, tcp.Length), tcp));
        return p;
    }

    [Test]
    public void BrokenOptionsReachTheOptionParserAndStillGetAnAnswer()
    {
        // The responder answers data whatever its options (an unreadable one is skipped, the
        // ones before it kept): the legacy tool echoed what it could read.
        var output = new byte[2048];
        foreach (var p in MalformedPackets().Skip(16).Take(OptionCases))
        {
            Assert.That(PacketView.TryParse(p, out var v), Is.EqualTo(PacketStatus.Tcp));
            Assert.That(v.TcpChecksumValid, Is.True, "the case must get past the checksum check");
            var r = StatelessResponder.Respond(p, output, Config);
            Assert.That(r.Verdict, Is.EqualTo(ResponderVerdict.Answered), Convert.ToHexString(p));
            Assert.That(PacketView.TryParse(output.AsSpan(0, r.FirstLength), out var answer), Is.EqualTo(PacketStatus.Tcp));
            Assert.That(answer.TcpChecksumValid, Is.True);
        }
    }

    [TestCase((ushort)0)]
    [TestCase((ushort)19)]
    [TestCase((ushort)39)]
    public void AnIpLengthShorterThanTheHeadersIsMalformed(ushort total)
    {
        var p = Seg(TcpFlags.Syn, 5, 0).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), total);
        FixIpChecksum(p);
        Assert.That(StatelessResponder.Respond(p, new byte[2048], Config).Verdict, Is.EqualTo(ResponderVerdict.Malformed));
    }

    [Test]
    public void ABadIpHeaderChecksumIsNotAnswered()
    {
        var p = Seg(TcpFlags.Syn, 5, 0).ToArray();
        p[10] ^= 0x55;
        var output = new byte[2048];
        Assert.That(StatelessResponder.Respond(p, output, Config).Verdict, Is.EqualTo(ResponderVerdict.BadChecksum));
        Assert.That(StatelessResponder.Respond(p, output, new ResponderConfig { Port = Config.Port, Address = Config.Address, VerifyChecksum = false }).Verdict, Is.EqualTo(ResponderVerdict.Answered));
        p[10] ^= 0x55;
        Assert.That(StatelessResponder.Respond(p, output, Config).Verdict, Is.EqualTo(ResponderVerdict.Answered));
    }

    private static void FixIpChecksum(byte[] p)
    {
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
    }

    [Test]
    public void MalformedPacketsAreRefusedWithoutThrowing()
    {
        var output = new byte[2048];
        foreach (var p in MalformedPackets())
        {
            var r = StatelessResponder.Respond(p, output, Config);
            if (r.Verdict == ResponderVerdict.Answered)
            {
                // Whatever was answered must itself be a well-formed packet.
                Assert.That(PacketView.TryParse(output.AsSpan(0, r.FirstLength), out var v), Is.EqualTo(PacketStatus.Tcp));
                Assert.That(v.TcpChecksumValid, Is.True);
            }
        }
        var syn = Seg(TcpFlags.Syn, 5, 0).ToArray();
        Assert.That(StatelessResponder.Respond(syn, output, Config).Verdict, Is.EqualTo(ResponderVerdict.Answered));
    }

    [Test]
    public void WrongDataOffsetsAndTruncationAreNotAnswered()
    {
        var output = new byte[2048];
        var good = Seg(TcpFlags.Ack, 1, 2, [0xa1, 1, 2, 3, 4], new TimestampsOption(1, 2)).ToArray();
        for (int n = 0; n < good.Length; n++)
            Assert.That(StatelessResponder.Respond(good[..n], output, Config).Verdict, Is.Not.EqualTo(ResponderVerdict.Answered), $"cut at {n}");
        foreach (int off in new[] { 0, 4, 15 })
        {
            var p = (byte[])good.Clone();
            p[32] = (byte)(off << 4);
            Assert.That(StatelessResponder.Respond(p, output, Config).Verdict, Is.EqualTo(ResponderVerdict.Malformed), $"offset {off}");
        }
    }

    [Test]
    public void AMillionMalformedSegmentsAllocateNothing()
    {
        var packets = MalformedPackets();
        var syn = Seg(TcpFlags.Syn, 5, 0, null, new MssOption(512), new TimestampsOption(9, 0)).ToArray();
        packets.Add(syn);
        var output = new byte[2048];
        // Warm up so JIT and static initialisation are not counted.
        foreach (var p in packets)
            StatelessResponder.Respond(p, output, Config);
        long answered = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000_000; i++)
        {
            var r = StatelessResponder.Respond(packets[i % packets.Count], output, Config);
            if (r.Verdict == ResponderVerdict.Answered) answered++;
        }
        long delta = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(delta, Is.LessThan(1024), "bytes allocated over a million segments");
        Assert.That(answered, Is.GreaterThanOrEqualTo(1_000_000 / packets.Count), "the valid SYN kept being answered");
        Assert.That(StatelessResponder.Respond(syn, output, Config).Verdict, Is.EqualTo(ResponderVerdict.Answered));
    }
}
