using System.Net;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// An ICMP or ICMPv6 error (destination unreachable, time exceeded, parameter problem, packet too
/// big, source quench, redirect) quoting one of our segments.
/// </summary>
/// <param name="Version">4 for ICMP, 6 for ICMPv6.</param>
/// <param name="Type">The ICMP type.</param>
/// <param name="Code">The ICMP code.</param>
/// <param name="Reporter">Who sent the error (a router on the path, or the destination).</param>
/// <param name="Quoted">The key of the quoted segment, as we sent it.</param>
/// <param name="QuotedBytes">The quoted packet as the error carries it (often cut after 8 bytes of TCP).</param>
public sealed record IcmpError(int Version, byte Type, byte Code, IPAddress Reporter, FlowKey Quoted, ReadOnlyMemory<byte> QuotedBytes)
{
    /// <summary>Reads an ICMP error from a whole IP packet; false for anything else (echo, TCP, cut-off quotes).</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out byte type, out byte code, out FlowKey quoted, out int quoteOffset)
    {
        type = code = 0;
        quoted = default;
        quoteOffset = 0;
        var status = PacketView.TryParse(packet, out var v);
        if (status != PacketStatus.NotTcp)
            return false;
        var icmp = v.Transport;
        if (icmp.Length < 8)
            return false;
        type = icmp[0];
        code = icmp[1];
        bool isError = v.IsIpv6
            ? v.Protocol == 58 && type is >= 1 and <= 4
            : v.Protocol == 1 && type is 3 or 4 or 5 or 11 or 12;
        if (!isError)
            return false;
        quoteOffset = v.TransportOffset + 8;
        return FlowKey.TryReadQuoted(v.Bytes[quoteOffset..], out quoted);
    }

    /// <summary>A short description, e.g. "ICMP 3/3 port unreachable from 10.0.0.1".</summary>
    public string Describe() => $"{(Version == 6 ? "ICMPv6" : "ICMP")} {Type}/{Code} {Meaning} from {Reporter}";

    private string Meaning => (Version, Type, Code) switch
    {
        (4, 3, 0) => "net unreachable",
        (4, 3, 1) => "host unreachable",
        (4, 3, 2) => "protocol unreachable",
        (4, 3, 3) => "port unreachable",
        (4, 3, 4) => "fragmentation needed",
        (4, 3, 13) => "administratively prohibited",
        (4, 3, _) => "destination unreachable",
        (4, 4, _) => "source quench",
        (4, 5, _) => "redirect",
        (4, 11, _) => "time exceeded",
        (4, 12, _) => "parameter problem",
        (6, 1, 1) => "administratively prohibited",
        (6, 1, 4) => "port unreachable",
        (6, 1, _) => "destination unreachable",
        (6, 2, _) => "packet too big",
        (6, 3, _) => "time exceeded",
        (6, 4, _) => "parameter problem",
        _ => "error",
    };
}
