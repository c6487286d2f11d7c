using System.Collections.Immutable;
using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Packets;

/// <summary>Something wrong with a parsed packet. Several can hold at once.</summary>
[Flags]
public enum ParseProblems
{
    /// <summary>Nothing wrong.</summary>
    None = 0,
    /// <summary>Not IPv4/IPv6, or the IP header is cut off: nothing could be read.</summary>
    NotIp = 1 << 0,
    /// <summary>IP, but not TCP (or a non-first fragment).</summary>
    NotTcp = 1 << 1,
    /// <summary>The TCP fixed header is cut off.</summary>
    TruncatedTcp = 1 << 2,
    /// <summary>The IP length field disagrees with the bytes present.</summary>
    IpLengthMismatch = 1 << 3,
    /// <summary>The IPv4 header checksum is wrong.</summary>
    BadIpChecksum = 1 << 4,
    /// <summary>The TCP checksum is wrong.</summary>
    BadTcpChecksum = 1 << 5,
    /// <summary>The data offset is below 5 or points past the end.</summary>
    BadDataOffset = 1 << 6,
    /// <summary>At least one option is malformed (see <see cref="MalformedOption"/>).</summary>
    MalformedOption = 1 << 7,
}

/// <summary>The outcome of parsing: the segment (when the TCP header could be read) and what was wrong.</summary>
public sealed record SegmentParseResult(TcpSegment? Segment, ParseProblems Problems)
{
    /// <summary>True when a segment was read, whatever its problems.</summary>
    public bool HasSegment => Segment is not null;
    /// <summary>True when a segment was read and nothing is wrong with it.</summary>
    public bool IsClean => Segment is not null && Problems == ParseProblems.None;

    /// <summary>One sentence per problem.</summary>
    public IEnumerable<string> Describe()
    {
        if (Problems.HasFlag(ParseProblems.NotIp)) yield return "not an IPv4 or IPv6 packet, or its IP header is cut off";
        if (Problems.HasFlag(ParseProblems.NotTcp)) yield return "the IP payload is not TCP";
        if (Problems.HasFlag(ParseProblems.TruncatedTcp)) yield return "the TCP header is shorter than 20 bytes";
        if (Problems.HasFlag(ParseProblems.IpLengthMismatch)) yield return "the IP length field disagrees with the packet's size";
        if (Problems.HasFlag(ParseProblems.BadIpChecksum)) yield return "the IPv4 header checksum is wrong";
        if (Problems.HasFlag(ParseProblems.BadTcpChecksum)) yield return "the TCP checksum is wrong";
        if (Problems.HasFlag(ParseProblems.BadDataOffset)) yield return "the TCP data offset is below 5 or points past the end";
        if (Segment is not null)
            foreach (var o in Segment.Options)
                if (o is MalformedOption m) yield return m.Describe();
    }
}

/// <summary>
/// Reads packets into <see cref="TcpSegment"/> values. Never throws on any input; everything that
/// can be read is kept, and overrides record the fields that a plain encode would not reproduce
/// (a lying data offset, a wrong checksum, odd IP lengths), so that parse then encode gives the
/// same bytes for any packet whose TCP header is readable.
/// </summary>
public static class SegmentParser
{
    /// <summary>Parses an IPv4 or IPv6 packet (starting at the IP header) into a segment and the problems found.</summary>
    /// <param name="packet">The packet, starting at the IP header.</param>
    /// <param name="dialect">How to read ambiguous kind-30 options.</param>
    public static SegmentParseResult Parse(ReadOnlySpan<byte> packet, MptcpDialect dialect = MptcpDialect.Auto)
    {
        var status = PacketView.TryParse(packet, out var view);
        var problems = view.LengthMismatch ? ParseProblems.IpLengthMismatch : ParseProblems.None;
        switch (status)
        {
            case PacketStatus.NotIp: return new(null, problems | ParseProblems.NotIp);
            case PacketStatus.NotTcp: return new(null, problems | ParseProblems.NotTcp);
            case PacketStatus.TruncatedTcp: return new(null, problems | ParseProblems.TruncatedTcp);
        }

        var tcp = view.Tcp;
        IpHeader ip;
        if (view.IsIpv6)
        {
            var v6 = view.Ipv6;
            int realPayload = view.Bytes.Length - Ipv6HeaderView.Length;
            ip = new Ipv6Header
            {
                Source = new IPAddress(v6.Source),
                Destination = new IPAddress(v6.Destination),
                Protocol = v6.NextHeader,
                Ttl = v6.HopLimit,
                TrafficClass = v6.TrafficClass,
                FlowLabel = v6.FlowLabel,
                PayloadLength = v6.PayloadLength != realPayload ? v6.PayloadLength : null,
                ExtensionHeaders = view.TransportOffset > Ipv6HeaderView.Length
                    ? view.Bytes[Ipv6HeaderView.Length..view.TransportOffset].ToArray() : ReadOnlyMemory<byte>.Empty,
            };
        }
        else
        {
            var v4 = view.Ipv4;
            if (!v4.ChecksumValid) problems |= ParseProblems.BadIpChecksum;
            ip = new Ipv4Header
            {
                Source = new IPAddress(v4.Source),
                Destination = new IPAddress(v4.Destination),
                Protocol = v4.Protocol,
                Ttl = v4.Ttl,
                Tos = v4.Tos,
                Identification = v4.Identification,
                ReservedFlag = v4.ReservedFlag,
                DontFragment = v4.DontFragment,
                MoreFragments = v4.MoreFragments,
                FragmentOffset = v4.FragmentOffset,
                Options = v4.Options.ToArray(),
                TotalLength = v4.TotalLength != view.Bytes.Length ? v4.TotalLength : null,
                Checksum = KeepChecksum(v4.ChecksumValid, v4.HeaderChecksum),
            };
        }

        if (tcp.OffsetProblem != DataOffsetProblem.None) problems |= ParseProblems.BadDataOffset;
        bool checksumOk = view.TcpChecksumValid;
        if (!checksumOk) problems |= ParseProblems.BadTcpChecksum;

        // A data offset past the end can leave option bytes that stop inside a 32-bit word, which
        // the encoder would pad: keep that unaligned tail as payload so encoding gives back the packet.
        var optionBytes = tcp.OptionBytes;
        var payload = tcp.Payload;
        if (tcp.OffsetProblem == DataOffsetProblem.PastEnd && optionBytes.Length % 4 != 0)
        {
            payload = optionBytes[(optionBytes.Length & ~3)..];
            optionBytes = optionBytes[..(optionBytes.Length & ~3)];
        }

        var options = TcpOptionParser.Parse(optionBytes, dialect);
        foreach (var o in options.AsSpan())
            if (o.IsMalformed) { problems |= ParseProblems.MalformedOption; break; }

        // Options that do not fill the space to a multiple of 4 are followed by bytes the encoder
        // pads with zeros; and a data offset that is not what the options imply is kept as found.
        int optLen = optionBytes.Length;
        byte? dataOffset = tcp.DataOffset * 4 != 20 + ((optLen + 3) & ~3) ? (byte)tcp.DataOffset : null;

        var segment = new TcpSegment
        {
            Ip = ip,
            SourcePort = tcp.SourcePort,
            DestinationPort = tcp.DestinationPort,
            Sequence = tcp.Sequence,
            Acknowledgment = tcp.Acknowledgment,
            Flags = tcp.Flags,
            Reserved = (byte)tcp.Reserved,
            Window = tcp.Window,
            UrgentPointer = tcp.UrgentPointer,
            Options = options,
            Payload = payload.ToArray(),
            DataOffset = dataOffset,
            Checksum = KeepChecksum(checksumOk, tcp.Checksum),
        };
        return new SegmentParseResult(segment, problems);
    }

    // A verified field is what the encoder computes, except 0xFFFF: one's complement's other zero,
    // valid whenever the computed value is 0 (the encoder never computes 0xFFFF: the sums here are
    // never all zero). Keep that one as found so that encoding gives the same bytes.
    private static ushort? KeepChecksum(bool valid, ushort field) => valid && field != 0xFFFF ? null : field;
}
