using System.Net;
using FsCheck.Fluent;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using static TcpExposure.Craft.Tests.Properties.Generators;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>
/// The encoder's fast paths against its plain one: the header template a segment caches from its
/// second encode on, the fused copy-and-checksum, and the summary line's number writer.
/// </summary>
public class EncodeCacheProperties
{
    private static byte[] Direct(TcpSegment s)
    {
        var bytes = new byte[s.GetEncodedLength()];
        Assert.That(s.TryEncodeDirect(bytes, out int n), Is.True);
        Assert.That(n, Is.EqualTo(bytes.Length));
        return bytes;
    }

    [Test]
    public void EveryEncodeOfASegmentGivesTheSameBytes() => PropertyCheck.Holds(Segment, s =>
    {
        byte[] expected = Direct(s);
        // First encode marks the instance, second builds the template, third and later use it.
        for (int i = 0; i < 4; i++)
            Assert.That(s.ToArray(), Is.EqualTo(expected), $"encode #{i + 1}");
        var tcp = new byte[s.TcpLength];
        for (int i = 0; i < 3; i++)
        {
            Assert.That(s.EncodeTcp(tcp), Is.EqualTo(tcp.Length));
            Assert.That(tcp, Is.EqualTo(expected.AsSpan(s.Ip.HeaderLength).ToArray()), $"TCP-only encode #{i + 1}");
        }
    }, 500);

    [Test]
    public void AWithCopyOfAnEncodedSegmentEncodesItsOwnFields() => PropertyCheck.Holds(Z(Segment, U32, U16), t =>
    {
        var (s, seq, window) = t;
        s.ToArray();
        s.ToArray(); // s now has its template; the copies below inherit the field holding it
        var changed = s with { Sequence = seq, Window = window };
        var plain = changed with { };
        Assert.That(changed.ToArray(), Is.EqualTo(Direct(changed)));
        Assert.That(changed.ToArray(), Is.EqualTo(Direct(changed)));
        Assert.That(plain.ToArray(), Is.EqualTo(Direct(changed)));
        Assert.That(new TcpSegment { Ip = s.Ip, Options = s.Options, Payload = s.Payload, Sequence = seq, Window = window, SourcePort = s.SourcePort, DestinationPort = s.DestinationPort, Acknowledgment = s.Acknowledgment, Flags = s.Flags, Reserved = s.Reserved, UrgentPointer = s.UrgentPointer, DataOffset = s.DataOffset, Checksum = s.Checksum },
            Is.EqualTo(changed), "record equality ignores the encode cache");
    }, 300);

    [Test]
    public void ThePayloadIsReadAfreshOnEveryEncode()
    {
        var payload = new byte[37];
        var s = TcpSegment.Create(IPEndPoint.Parse("192.0.2.2:1000"), IPEndPoint.Parse("192.0.2.1:80"), TcpFlags.Ack | TcpFlags.Psh) with
        {
            Options = [new TimestampsOption(1, 2)],
            Payload = payload,
        };
        s.ToArray();
        s.ToArray();
        for (int round = 0; round < 5; round++)
        {
            new Random(round).NextBytes(payload);
            byte[] bytes = s.ToArray();
            Assert.That(bytes, Is.EqualTo(Direct(s)));
            Assert.That(PacketView.TryParse(bytes, out var v), Is.EqualTo(PacketStatus.Tcp));
            Assert.That(v.TcpChecksumValid, Is.True);
        }
    }

    [Test]
    public void OptionsHoldingCallerMemoryAreNotCached()
    {
        var cookie = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var s = TcpSegment.Create(IPEndPoint.Parse("192.0.2.2:1000"), IPEndPoint.Parse("192.0.2.1:80"), TcpFlags.Syn) with
        {
            Options = [new FastOpenOption(cookie)],
        };
        s.ToArray();
        s.ToArray();
        cookie[0] = 0xEE;
        byte[] bytes = s.ToArray();
        Assert.That(bytes[20 + 22], Is.EqualTo(0xEE), "the cookie as it is now");
        Assert.That(bytes, Is.EqualTo(Direct(s)));
    }

    [Test]
    public void CopyAndSumCopiesAndSumsAnySpan() => PropertyCheck.Holds(Z(Bytes(0, 600), Gen.Choose(0, 7), Gen.Choose(0, 7), Gen.Elements(0u, 1u, 0xFFFFu, 0x1FFFEu)), t =>
    {
        var (data, skip, at, initial) = t;
        var src = data.AsSpan(Math.Min(skip, data.Length));
        var dst = new byte[src.Length + 16];
        uint sum = Checksum.CopyAndSum(src, dst.AsSpan(at), initial);
        Assert.That(dst.AsSpan(at, src.Length).SequenceEqual(src), Is.True);
        Assert.That(dst.AsSpan(0, at).ContainsAnyExcept((byte)0), Is.False, "nothing written before the destination");
        Assert.That(dst.AsSpan(at + src.Length).ContainsAnyExcept((byte)0), Is.False, "nothing written past the source's length");
        Assert.That(Checksum.Fold(sum), Is.EqualTo(ChecksumProperties.NaiveSum(src, initial)));
    }, 2000);

    [Test]
    public void SummaryNumbersOfEveryWidthMatchTheGeneralPath() => PropertyCheck.Holds(Z(Segment, U32, U32), t =>
    {
        var (s, seq, ack) = t;
        // Sequence numbers of every digit count, 0 to 10 digits.
        seq >>= (int)(ack % 32);
        var bytes = (s with { Sequence = seq, Acknowledgment = ack, Ip = s.Ip }).ToArray();
        if (PacketView.TryParse(bytes, out _) != PacketStatus.Tcp)
            return;
        Assert.That(LegacyCraft.SummarizePkt(bytes), Is.EqualTo(LegacyCraft.SummarizeAns1(LegacyCraft.ParseHeaders(bytes))));
    }, 500);
}
