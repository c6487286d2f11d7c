using System.Collections.Immutable;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Responder.Middlebox;

/// <summary>Helpers for behaviours that change a segment.</summary>
public static class SegmentEdits
{
    /// <summary>
    /// The segment with every length and checksum override dropped, so that encoding computes them
    /// afresh: what a middlebox that rewrites a segment does. The IPv4 identification, TTL, TOS
    /// and flags are kept.
    /// </summary>
    public static TcpSegment Recomputed(this TcpSegment s) => s with
    {
        Checksum = null,
        DataOffset = null,
        Ip = s.Ip switch
        {
            Ipv4Header v4 => v4 with { TotalLength = null, Checksum = null, HeaderLengthWords = null },
            Ipv6Header v6 => v6 with { PayloadLength = null },
            var other => other,
        },
    };

    /// <summary>Whether the segment carries at least one option of <paramref name="kind"/>.</summary>
    public static bool HasOption(this TcpSegment s, byte kind)
    {
        foreach (var o in s.Options)
            if (o.Kind == kind)
                return true;
        return false;
    }

    /// <summary>The options with <paramref name="map"/> applied to each one of <paramref name="kind"/> (null removes it).</summary>
    public static ImmutableArray<TcpOption> MapOptions(ImmutableArray<TcpOption> options, byte kind, Func<TcpOption, TcpOption?> map)
    {
        var b = ImmutableArray.CreateBuilder<TcpOption>(options.Length);
        foreach (var o in options)
        {
            if (o.Kind != kind || o.IsMalformed)
            {
                b.Add(o);
                continue;
            }
            if (map(o) is { } n)
                b.Add(n);
        }
        return b.ToImmutable();
    }

    /// <summary>
    /// A segment going the other way from <paramref name="s"/>'s receiver to its sender (addresses
    /// and ports swapped), with no options and no payload; the caller sets seq, ack, flags, window.
    /// </summary>
    public static TcpSegment Reply(this TcpSegment s) => new()
    {
        Ip = s.Ip switch
        {
            Ipv4Header => new Ipv4Header { Source = s.Ip.Destination, Destination = s.Ip.Source, Ttl = 64, DontFragment = true },
            _ => new Ipv6Header { Source = s.Ip.Destination, Destination = s.Ip.Source, Ttl = 64 },
        },
        SourcePort = s.DestinationPort,
        DestinationPort = s.SourcePort,
    };

    /// <summary>Whether the segment is a data segment: payload, no SYN, no RST.</summary>
    public static bool IsData(this TcpSegment s) =>
        s.Payload.Length > 0 && (s.Flags & (Craft.Wire.TcpFlags.Syn | Craft.Wire.TcpFlags.Rst)) == 0;
}
