using System.Buffers.Binary;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using static TcpExposure.Craft.Tests.Properties.Generators;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>Whole segments: encode, parse, compare every field, encode again to the same bytes.</summary>
public class SegmentRoundTripProperties
{
    [Test]
    public void EverySegmentRoundTrips() => PropertyCheck.Holds(Segment, segment =>
    {
        byte[] wire = segment.ToArray();
        Assert.That(wire, Has.Length.EqualTo(segment.GetEncodedLength()));
        var result = SegmentParser.Parse(wire);
        var back = result.Segment!;
        Assert.That(back, Is.Not.Null, string.Join("; ", result.Describe()));

        ushort rightTcp = segment.ComputeChecksum();
        bool wrongTcp = segment.Checksum is { } c && c != rightTcp && !(c == 0xFFFF && rightTcp == 0);
        Assert.That(result.Problems.HasFlag(ParseProblems.BadTcpChecksum), Is.EqualTo(wrongTcp));
        Assert.That(NaiveVerify(wire, segment.Ip.HeaderLength), Is.EqualTo(!wrongTcp), "independent RFC 1071 check of the TCP checksum");
        Assert.Multiple(() =>
        {
            Assert.That(back.SourcePort, Is.EqualTo(segment.SourcePort));
            Assert.That(back.DestinationPort, Is.EqualTo(segment.DestinationPort));
            Assert.That(back.Sequence, Is.EqualTo(segment.Sequence));
            Assert.That(back.Acknowledgment, Is.EqualTo(segment.Acknowledgment));
            Assert.That(back.Flags, Is.EqualTo(segment.Flags));
            Assert.That(back.Reserved, Is.EqualTo(segment.Reserved));
            Assert.That(back.Window, Is.EqualTo(segment.Window));
            Assert.That(back.UrgentPointer, Is.EqualTo(segment.UrgentPointer));
            Assert.That(back.Payload.ToArray(), Is.EqualTo(segment.Payload.ToArray()));
            Assert.That(back.Options.Take(segment.Options.Length), Is.EqualTo(segment.Options));
            Assert.That(back.DataOffset, Is.Null);
            Assert.That(back.Ip.Source, Is.EqualTo(segment.Ip.Source));
            Assert.That(back.Ip.Destination, Is.EqualTo(segment.Ip.Destination));
            Assert.That(back.Ip.Ttl, Is.EqualTo(segment.Ip.Ttl));
            Assert.That(back.Ip.Protocol, Is.EqualTo(6));
        });
        if (segment.Ip is Ipv4Header v4)
        {
            var b4 = (Ipv4Header)back.Ip;
            Assert.That((b4.Tos, b4.Identification, b4.ReservedFlag, b4.DontFragment, b4.MoreFragments),
                Is.EqualTo((v4.Tos, v4.Identification, v4.ReservedFlag, v4.DontFragment, v4.MoreFragments)));
            // IP options come back padded with zeros to the IHL.
            var padded = new byte[v4.HeaderLength - 20];
            v4.Options.Span.CopyTo(padded);
            Assert.That(b4.Options.ToArray(), Is.EqualTo(padded));
            ushort rightIp = Checksum.Compute(WithZeroIpChecksum(wire, v4.HeaderLength));
            bool wrongIp = v4.Checksum is { } ic && ic != rightIp && !(ic == 0xFFFF && rightIp == 0);
            Assert.That(result.Problems.HasFlag(ParseProblems.BadIpChecksum), Is.EqualTo(wrongIp));
        }
        else
        {
            var (a, b) = ((Ipv6Header)segment.Ip, (Ipv6Header)back.Ip);
            Assert.That((b.TrafficClass, b.FlowLabel), Is.EqualTo((a.TrafficClass, a.FlowLabel)));
        }
        Assert.That(back.ToArray(), Is.EqualTo(wire), "parse then encode gives the same bytes");
    }, 1000);

    /// <summary>Any data offset 0-15: parse keeps the lie and encoding reproduces the bytes.</summary>
    [Test]
    public void LyingDataOffsetsRoundTrip() => PropertyCheck.Holds(Z(Segment, Gen.Choose(0, 15)), t =>
    {
        var segment = t.Item1 with { DataOffset = (byte)t.Item2 };
        byte[] wire = segment.ToArray();
        var result = SegmentParser.Parse(wire);
        Assert.That(result.HasSegment, Is.True);
        int tcpLen = segment.TcpLength;
        bool honest = t.Item2 * 4 == segment.TcpHeaderLength;
        Assert.That(result.Problems.HasFlag(ParseProblems.BadDataOffset), Is.EqualTo(t.Item2 < 5 || t.Item2 * 4 > tcpLen));
        Assert.That(result.Segment!.ToArray(), Is.EqualTo(wire));
        if (honest)
            Assert.That(result.Segment!.DataOffset, Is.Null);
    }, 500);

    /// <summary>IP length fields larger than the packet are kept as found (smaller ones trim, like link-layer padding).</summary>
    [Test]
    public void LongerIpLengthFieldsRoundTrip() => PropertyCheck.Holds(Z(Segment, Gen.Choose(1, 2000)), t =>
    {
        var (segment, extra) = t;
        int len = segment.GetEncodedLength();
        segment = segment.Ip switch
        {
            Ipv4Header v4 => segment with { Ip = v4 with { TotalLength = (ushort)Math.Min(65535, len + extra) } },
            Ipv6Header v6 => segment with { Ip = v6 with { PayloadLength = (ushort)Math.Min(65535, len - 40 + extra) } },
            _ => segment,
        };
        byte[] wire = segment.ToArray();
        var result = SegmentParser.Parse(wire);
        Assert.That(result.Problems.HasFlag(ParseProblems.IpLengthMismatch), Is.True);
        Assert.That(result.Segment!.ToArray(), Is.EqualTo(wire));
    });

    [Test]
    public void Ipv6ExtensionHeadersAreSkippedOnParseAndKept() => PropertyCheck.Holds(Z(Segment, Gen.Choose(0, 3)), t =>
    {
        var (segment, count) = t;
        if (segment.Ip is not Ipv6Header v6) return;
        // hop-by-hop (0), routing (43), destination options (60): 8 bytes each, chained to TCP.
        byte[] chain = [0, 43, 60];
        var ext = new byte[8 * count];
        for (int i = 0; i < count; i++)
            ext[i * 8] = i + 1 < count ? chain[i + 1] : (byte)6;
        segment = segment with { Ip = v6 with { Protocol = count == 0 ? (byte)6 : chain[0], ExtensionHeaders = ext } };
        byte[] wire = segment.ToArray();
        Assert.That(PacketView.TryParse(wire, out var view), Is.EqualTo(PacketStatus.Tcp));
        Assert.That(view.TransportOffset, Is.EqualTo(40 + ext.Length));
        Assert.That(NaiveVerify(wire, 40 + ext.Length) || segment.Checksum is not null, Is.True);
        var result = SegmentParser.Parse(wire);
        Assert.That(result.Segment!.Payload.ToArray(), Is.EqualTo(segment.Payload.ToArray()));
        Assert.That(result.Segment.ToArray(), Is.EqualTo(wire));
    });

    [Test]
    public void NonFirstIpv6FragmentIsNotReadAsTcp()
    {
        var seg = TcpSegment.Create(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 1), new IPEndPoint(IPAddress.Parse("2001:db8::2"), 2));
        byte[] frag = [6, 0, 0x00, 0x08, 0, 0, 0, 1]; // offset 1 (8 bytes)
        var wire = (seg with { Ip = ((Ipv6Header)seg.Ip) with { Protocol = 44, ExtensionHeaders = frag } }).ToArray();
        Assert.That(PacketView.TryParse(wire, out var view), Is.EqualTo(PacketStatus.NotTcp));
        Assert.That(view.Protocol, Is.EqualTo(44));
        frag[3] = 0; // first fragment: TCP follows
        wire = (seg with { Ip = ((Ipv6Header)seg.Ip) with { Protocol = 44, ExtensionHeaders = frag } }).ToArray();
        Assert.That(PacketView.TryParse(wire, out _), Is.EqualTo(PacketStatus.Tcp));
        Assert.That(SegmentParser.Parse(wire).IsClean, Is.True);
    }

    [Test]
    public void AllOnesChecksumThatVerifiesIsKeptAsFound()
    {
        // Find a segment whose right checksum is 0, then write 0xFFFF (the other one's-complement zero).
        var seg = TcpSegment.Create(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 1000), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80));
        for (uint s = 0; ; s++)
        {
            var candidate = seg with { Sequence = s };
            if (candidate.ComputeChecksum() != 0) continue;
            var wire = (candidate with { Checksum = 0xFFFF }).ToArray();
            var result = SegmentParser.Parse(wire);
            Assert.That(result.IsClean, Is.True);
            Assert.That(result.Segment!.ToArray(), Is.EqualTo(wire));
            return;
        }
    }

    [Test]
    public void EolTrailerIsKeptAndCounted()
    {
        byte[] space = [2, 4, 5, 0xB4, 0, 7, 7, 7];
        var options = TcpOptionParser.Parse(space);
        Assert.That(options[^1], Is.InstanceOf<EndOfOptionListOption>());
        Assert.That(((EndOfOptionListOption)options[^1]).Trailer.ToArray(), Is.EqualTo(new byte[] { 7, 7, 7 }));
        var e = new TcpOptionEnumerator(space);
        e.MoveNext(); e.MoveNext();
        Assert.That(e.Current.WireLength, Is.EqualTo(4), "EOL plus its 3-byte trailer");
    }

    [Test]
    public void AddressOfTheWrongFamilyIsAClearError()
    {
        var seg = new TcpSegment { Ip = new Ipv4Header { Source = IPAddress.IPv6Loopback, Destination = IPAddress.Loopback } };
        var ex = Assert.Throws<InvalidOperationException>(() => seg.ToArray());
        Assert.That(ex!.Message, Does.Contain("IPv4"));
    }

    private static byte[] WithZeroIpChecksum(byte[] wire, int hl)
    {
        var h = wire[..hl];
        h[10] = h[11] = 0;
        return h;
    }

    /// <summary>The TCP checksum checked with the naive RFC 1071 sum over a pseudo-header built by hand.</summary>
    internal static bool NaiveVerify(byte[] wire, int ipHeaderLength)
    {
        var tcp = wire.AsSpan(ipHeaderLength);
        var pseudo = new List<byte>();
        if (wire[0] >> 4 == 4)
        {
            pseudo.AddRange(wire.AsSpan(12, 8).ToArray());
            pseudo.AddRange(new byte[] { 0, 6, (byte)(tcp.Length >> 8), (byte)tcp.Length });
        }
        else
        {
            pseudo.AddRange(wire.AsSpan(8, 32).ToArray());
            pseudo.AddRange(new byte[] { 0, 0, (byte)(tcp.Length >> 8), (byte)tcp.Length, 0, 0, 0, 6 });
        }
        pseudo.AddRange(tcp.ToArray());
        return ChecksumProperties.NaiveSum(pseudo.ToArray(), 0) == 0xFFFF;
    }
}
