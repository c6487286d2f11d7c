using System.Net;
using System.Text.Json;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Tool.Commands;

// Stopgaps until the format branch (SegmentNotation, TcpdumpSummary, JsonSummary) is in main.
internal static class SegmentText
{
    public static TcpSegment Parse(string text, IPEndPoint source, IPEndPoint destination)
        => throw new UsageException("--segment notation is not in this build yet; give the packet with --hex.");
}

internal static class PacketText
{
    public static string Describe(ReadOnlySpan<byte> packet)
    {
        var p = SegmentParser.Parse(packet);
        if (p.Segment is not { } s) return $"{packet.Length} bytes, not TCP";
        return $"{s.Ip.Source}.{s.SourcePort} > {s.Ip.Destination}.{s.DestinationPort}: Flags [{s.Flags}], seq {s.Sequence}, ack {s.Acknowledgment}, win {s.Window}, options [{string.Join(",", s.Options)}], length {s.Payload.Length}";
    }

    public static void WriteJson(Utf8JsonWriter w, ReadOnlySpan<byte> packet) => w.WriteStringValue(Convert.ToHexStringLower(packet));
}
