using System.Buffers;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>
/// The line <c>tcpdump -n</c> prints for a TCP packet, with absolute sequence numbers, e.g.
/// <c>IP 192.0.2.2.55555 &gt; 192.0.2.1.80: Flags [S], seq 20000, win 8192, options [mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop], length 0</c>
/// (<c>IP6</c> for IPv6). Flags use tcpdump's letters (F S R P . U E W, <c>e</c> for AE,
/// <c>none</c>); options use <see cref="OptionNotation"/>, whose common spellings are tcpdump's.
/// As with <c>tcpdump -v</c>, a wrong TCP checksum adds <c>cksum 0x.. (incorrect -&gt; 0x..)</c> and a
/// wrong IPv4 header checksum adds <c>bad ip cksum 0x.. (-&gt; 0x..)</c>.
/// Formats into a stack buffer; the result string is the only allocation.
/// </summary>
public static class TcpdumpSummary
{
    /// <summary>The line for the IP packet in <paramref name="packet"/>; packets that are not TCP get a short description.</summary>
    // The stack buffer needs no zeroing: only what was written is read.
    [SkipLocalsInit]
    public static string Format(ReadOnlySpan<byte> packet)
    {
        Span<char> stack = stackalloc char[512];
        var w = new CharWriter(stack);
        Write(packet, ref w);
        if (!w.Overflow)
            return new string(w.Written);
        char[] rented = ArrayPool<char>.Shared.Rent(8192);
        try
        {
            var big = new CharWriter(rented);
            Write(packet, ref big);
            return new string(big.Written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The line for a segment value (encoded first, so it shows what goes on the wire).</summary>
    public static string Format(TcpSegment segment)
        => SummaryEncoding.WithEncoded(segment, 0, static (bytes, _) => Format(bytes));

    /// <summary>Writes the line into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryFormat(ReadOnlySpan<byte> packet, Span<char> destination, out int charsWritten)
    {
        var w = new CharWriter(destination);
        Write(packet, ref w);
        charsWritten = w.Overflow ? 0 : w.Length;
        return !w.Overflow;
    }

    internal static void Write(ReadOnlySpan<byte> packet, ref CharWriter w)
    {
        var status = PacketView.TryParse(packet, out var v);
        if (status != PacketStatus.Tcp)
        {
            SummaryEncoding.WriteNotTcp(status, v, packet.Length, ref w);
            return;
        }
        var t = v.Tcp;
        w.Append(v.IsIpv6 ? "IP6 " : "IP ");
        w.AppendAddress(v.Source); w.Append('.'); w.Append(t.SourcePort);
        w.Append(" > ");
        w.AppendAddress(v.Destination); w.Append('.'); w.Append(t.DestinationPort);
        w.Append(": Flags [");
        WriteFlags(t.Flags, ref w);
        w.Append(']');
        if (!v.TcpChecksumValid)
        {
            w.Append(", cksum "); w.AppendHex(t.Checksum); w.Append(" (incorrect -> ");
            w.AppendHex(CorrectTcpChecksum(v)); w.Append(')');
        }
        var flags = t.Flags;
        int len = t.Payload.Length;
        uint seq = t.Sequence.Value;
        if (len > 0 || (flags & (TcpFlags.Syn | TcpFlags.Fin | TcpFlags.Rst)) != 0)
        {
            w.Append(", seq "); w.Append(seq);
            if (len > 0) { w.Append(':'); w.Append(unchecked(seq + (uint)len)); }
        }
        if ((flags & TcpFlags.Ack) != 0) { w.Append(", ack "); w.Append(t.Acknowledgment.Value); }
        w.Append(", win "); w.Append(t.Window);
        if ((flags & TcpFlags.Urg) != 0) { w.Append(", urg "); w.Append(t.UrgentPointer); }
        if (!t.OptionBytes.IsEmpty)
        {
            w.Append(", options [");
            OptionNotation.WriteOptionSpace(t.OptionBytes, ref w);
            w.Append(']');
        }
        w.Append(", length "); w.Append((uint)len);
        if (t.OffsetProblem != DataOffsetProblem.None) { w.Append(", bad data offset "); w.Append((uint)t.DataOffset); }
        if (!v.IsIpv6 && !v.Ipv4.ChecksumValid)
        {
            w.Append(", bad ip cksum "); w.AppendHex(v.Ipv4.HeaderChecksum); w.Append(" (-> ");
            Span<byte> header = stackalloc byte[60];
            var h = v.Ipv4.Bytes[..Math.Min(v.Ipv4.HeaderLength, 60)];
            h.CopyTo(header);
            header[10] = header[11] = 0;
            w.AppendHex(Checksum.Compute(header[..h.Length])); w.Append(')');
        }
    }

    /// <summary>tcpdump's letters in its order: F S R P . U E W e; <c>none</c> when no flag is set.</summary>
    internal static void WriteFlags(TcpFlags f, ref CharWriter w)
    {
        if (f == TcpFlags.None) { w.Append("none"); return; }
        if ((f & TcpFlags.Fin) != 0) w.Append('F');
        if ((f & TcpFlags.Syn) != 0) w.Append('S');
        if ((f & TcpFlags.Rst) != 0) w.Append('R');
        if ((f & TcpFlags.Psh) != 0) w.Append('P');
        if ((f & TcpFlags.Ack) != 0) w.Append('.');
        if ((f & TcpFlags.Urg) != 0) w.Append('U');
        if ((f & TcpFlags.Ece) != 0) w.Append('E');
        if ((f & TcpFlags.Cwr) != 0) w.Append('W');
        if ((f & TcpFlags.Ae) != 0) w.Append('e');
    }

    /// <summary>The TCP checksum the packet should carry.</summary>
    internal static ushort CorrectTcpChecksum(in PacketView v)
    {
        // Sum everything but the checksum field: the sum of the whole segment minus the field.
        uint sum = Checksum.Sum(v.Tcp.Bytes, v.PseudoHeaderSum);
        ulong without = (ulong)sum + (ushort)~v.Tcp.Checksum;
        return Checksum.Finish(Checksum.Fold(without));
    }
}
