using System.Globalization;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Says in words what the path did to one segment: compares the segment as sent with the
/// segment(s) that arrived for it (none: dropped; several: split; more payload: coalesced).
/// </summary>
public static class SegmentDiff
{
    /// <summary>One sentence per difference; empty when the segment arrived unchanged (TTL aside).</summary>
    public static IReadOnlyList<string> Describe(TcpSegment sent, IReadOnlyList<TcpSegment> arrived)
    {
        var d = new List<string>();
        if (arrived.Count == 0)
        {
            d.Add("dropped");
            return d;
        }
        var first = arrived[0];
        int delta = first.Sequence - sent.Sequence;
        if (delta != 0)
            d.Add(string.Create(CultureInfo.InvariantCulture, $"sequence number shifted by {(delta > 0 ? "+" : "")}{delta}"));
        if (first.Acknowledgment != sent.Acknowledgment && sent.Flags.HasFlag(TcpFlags.Ack))
            d.Add(string.Create(CultureInfo.InvariantCulture, $"acknowledgment number shifted by {first.Acknowledgment - sent.Acknowledgment:+0;-0}"));
        if (first.Window != sent.Window)
            d.Add(string.Create(CultureInfo.InvariantCulture, $"window {sent.Window} -> {first.Window}"));
        int total = arrived.Sum(s => s.Payload.Length);
        if (arrived.Count > 1)
        {
            int withOptions = arrived.Count(s => s.OptionsLength > 0);
            d.Add(string.Create(CultureInfo.InvariantCulture,
                $"split into {arrived.Count} segments ({string.Join("+", arrived.Select(s => s.Payload.Length))} bytes), options on {withOptions} of them"));
        }
        else if (total > sent.Payload.Length)
        {
            d.Add(string.Create(CultureInfo.InvariantCulture, $"coalesced with what followed: {sent.Payload.Length} -> {total} bytes"));
        }
        d.AddRange(DescribeOptions(sent.Options, first.Options));
        return d;
    }

    /// <summary>What happened to each option kind between <paramref name="sent"/> and <paramref name="arrived"/>.</summary>
    public static IEnumerable<string> DescribeOptions(IEnumerable<TcpOption> sent, IEnumerable<TcpOption> arrived)
    {
        static bool Padding(TcpOption o) => o is NopOption or EndOfOptionListOption;
        var s = sent.Where(o => !Padding(o)).ToList();
        var a = arrived.Where(o => !Padding(o)).ToList();
        foreach (var o in s)
        {
            var match = a.FirstOrDefault(x => x.Kind == o.Kind);
            if (match is null)
            {
                yield return $"option {Name(o.Kind)} removed";
                continue;
            }
            a.Remove(match);
            byte[] before = o.ToBytes(), after = match.ToBytes();
            if (before.AsSpan().SequenceEqual(after))
                continue;
            bool zeroed = after.Length == before.Length && after.AsSpan(Math.Min(2, after.Length)).IndexOfAnyExcept((byte)0) < 0;
            yield return $"option {Name(o.Kind)} {(zeroed ? "zeroed" : "modified")}";
        }
        foreach (var o in a)
            yield return $"option {Name(o.Kind)} added";
    }

    private static string Name(byte kind) => kind switch
    {
        TcpOptionKind.MaximumSegmentSize => "MSS (2)",
        TcpOptionKind.WindowScale => "WSCALE (3)",
        TcpOptionKind.SackPermitted => "SACKOK (4)",
        TcpOptionKind.Sack => "SACK (5)",
        TcpOptionKind.Timestamps => "TIMESTAMP (8)",
        TcpOptionKind.Mptcp => "MPTCP (30)",
        _ => kind.ToString(CultureInfo.InvariantCulture),
    };
}
