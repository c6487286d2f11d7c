using System.Buffers;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>Shared pieces of the summaries: encoding a value into a pooled buffer, and lines for packets that are not TCP.</summary>
internal static class SummaryEncoding
{
    internal delegate string Formatter<TArg>(ReadOnlySpan<byte> packet, TArg arg);

    /// <summary>Encodes <paramref name="segment"/> into a stack or pooled buffer and formats the bytes.</summary>
    [SkipLocalsInit]
    public static string WithEncoded<TArg>(TcpSegment segment, TArg arg, Formatter<TArg> format)
    {
        ArgumentNullException.ThrowIfNull(segment);
        int n = segment.GetEncodedLength();
        byte[]? rented = n > 512 ? ArrayPool<byte>.Shared.Rent(n) : null;
        try
        {
            Span<byte> buffer = rented is null ? stackalloc byte[512] : rented;
            if (!segment.TryEncode(buffer, out int written))
                return $"# cannot encode: the options take {segment.OptionsLength} bytes, more than a TCP header holds (set a data offset to write them anyway)";
            return format(buffer[..written], arg);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A short description of a packet that has no readable TCP header.</summary>
    public static void WriteNotTcp(PacketStatus status, in PacketView v, int length, ref CharWriter w)
    {
        if (status == PacketStatus.NotIp)
        {
            w.Append("not an IPv4 or IPv6 packet ("); w.Append((uint)length); w.Append(" bytes)");
            return;
        }
        w.Append(v.IsIpv6 ? "IP6 " : "IP ");
        w.AppendAddress(v.Source); w.Append(" > "); w.AppendAddress(v.Destination);
        if (status == PacketStatus.NotTcp)
        {
            if (!v.IsIpv6 && v.Ipv4.FragmentOffset != 0 && v.Protocol == 6)
            {
                w.Append(": tcp fragment at offset "); w.Append((uint)v.Ipv4.FragmentOffset * 8);
            }
            else
            {
                w.Append(": ip-proto-"); w.Append(v.Protocol);
            }
            w.Append(", length "); w.Append((uint)(v.Bytes.Length - v.TransportOffset));
            return;
        }
        w.Append(": [|tcp] truncated TCP header ("); w.Append((uint)Math.Max(0, v.Bytes.Length - v.TransportOffset)); w.Append(" bytes)");
    }
}
