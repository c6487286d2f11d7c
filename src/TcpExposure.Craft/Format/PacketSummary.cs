using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Format;

/// <summary>The summary styles.</summary>
public enum SummaryFormat
{
    /// <summary>The legacy <c>summarize_pkt</c> line (<see cref="LegacyCraft.SummarizePkt"/>).</summary>
    Legacy,
    /// <summary><see cref="TcpdumpSummary"/>.</summary>
    Tcpdump,
    /// <summary><see cref="DrillSummary"/>.</summary>
    Drill,
    /// <summary><see cref="JsonSummary"/>.</summary>
    Json,
}

/// <summary>One line for a packet in any <see cref="SummaryFormat"/>. Never throws on packet bytes.</summary>
public static class PacketSummary
{
    /// <summary>The line, without a trailing newline.</summary>
    public static string Format(ReadOnlySpan<byte> packet, SummaryFormat format) => format switch
    {
        SummaryFormat.Tcpdump => TcpdumpSummary.Format(packet),
        SummaryFormat.Drill => DrillSummary.Format(packet),
        SummaryFormat.Json => JsonSummary.Format(packet),
        SummaryFormat.Legacy => Legacy(packet),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown summary format."),
    };

    /// <summary>The line for a segment value.</summary>
    public static string Format(TcpSegment segment, SummaryFormat format)
        => SummaryEncoding.WithEncoded(segment, format, static (bytes, f) => Format(bytes, f));

    private static string Legacy(ReadOnlySpan<byte> packet)
    {
        try
        {
            return LegacyCraft.SummarizePkt(packet).TrimEnd('\n');
        }
        catch (ArgumentException e)
        {
            // The legacy line exists only for TCP; say what the packet is instead.
            return "# " + e.Message;
        }
    }
}
