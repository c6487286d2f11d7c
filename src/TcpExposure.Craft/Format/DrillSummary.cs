using System.Buffers;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>Which fields a packetdrill line carries beyond the TCP ones.</summary>
public enum DrillFields
{
    /// <summary>Flags, range, ack, win, urg, options; <c>doff</c>, <c>res</c>, <c>csum</c>, <c>ipcsum</c> only when they are wrong or unusual.</summary>
    Standard,
    /// <summary>Also <c>ttl</c>, <c>tos</c>, <c>id</c> and <c>df</c> when they differ from the notation's defaults, so the line builds the same packet again.</summary>
    Full,
}

/// <summary>
/// The packetdrill-style line of a packet (<see cref="SegmentNotation"/> reads it back), e.g.
/// <c>S 20000:20000(0) win 8192 &lt;mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop&gt;</c>.
/// Formats into a stack buffer; the result string is the only allocation.
/// </summary>
public static class DrillSummary
{
    /// <summary>The line for the IP packet in <paramref name="packet"/>; a line starting with <c>#</c> when it is not TCP.</summary>
    // The stack buffer needs no zeroing: only what was written is read.
    [SkipLocalsInit]
    public static string Format(ReadOnlySpan<byte> packet, DrillFields fields = DrillFields.Standard)
    {
        Span<char> stack = stackalloc char[512];
        var w = new CharWriter(stack);
        Write(packet, ref w, fields);
        if (!w.Overflow)
            return new string(w.Written);
        char[] rented = ArrayPool<char>.Shared.Rent(8192);
        try
        {
            var big = new CharWriter(rented);
            Write(packet, ref big, fields);
            return new string(big.Written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The line for a segment value (encoded first, so it shows what goes on the wire).</summary>
    public static string Format(TcpSegment segment, DrillFields fields = DrillFields.Standard)
        => SummaryEncoding.WithEncoded(segment, fields, static (bytes, f) => Format(bytes, f));

    /// <summary>Writes the line into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryFormat(ReadOnlySpan<byte> packet, Span<char> destination, out int charsWritten, DrillFields fields = DrillFields.Standard)
    {
        var w = new CharWriter(destination);
        Write(packet, ref w, fields);
        charsWritten = w.Overflow ? 0 : w.Length;
        return !w.Overflow;
    }

    internal static void Write(ReadOnlySpan<byte> packet, ref CharWriter w, DrillFields fields)
    {
        var status = PacketView.TryParse(packet, out var v);
        if (status != PacketStatus.Tcp)
        {
            w.Append("# ");
            SummaryEncoding.WriteNotTcp(status, v, packet.Length, ref w);
            return;
        }
        var t = v.Tcp;
        var flags = t.Flags;
        WriteFlags(flags, ref w);
        uint seq = t.Sequence.Value;
        int len = t.Payload.Length;
        w.Append(' '); w.Append(seq); w.Append(':'); w.Append(unchecked(seq + (uint)len)); w.Append('('); w.Append((uint)len); w.Append(')');
        if ((flags & TcpFlags.Ack) != 0 || t.Acknowledgment.Value != 0) { w.Append(" ack "); w.Append(t.Acknowledgment.Value); }
        w.Append(" win "); w.Append(t.Window);
        if ((flags & TcpFlags.Urg) != 0 || t.UrgentPointer != 0) { w.Append(" urg "); w.Append(t.UrgentPointer); }
        if (!t.OptionBytes.IsEmpty)
        {
            w.Append(" <");
            OptionNotation.WriteOptionSpace(t.OptionBytes, ref w);
            w.Append('>');
        }
        if (fields == DrillFields.Full)
        {
            if (v.Ttl != 64) { w.Append(" ttl "); w.Append(v.Ttl); }
            byte tos = v.IsIpv6 ? v.Ipv6.TrafficClass : v.Ipv4.Tos;
            if (tos != 0) { w.Append(" tos "); w.AppendHex(tos); }
            if (!v.IsIpv6)
            {
                if (v.Ipv4.Identification != 0) { w.Append(" id "); w.Append(v.Ipv4.Identification); }
                if (v.Ipv4.DontFragment) w.Append(" df");
            }
        }
        if (t.Reserved != 0) { w.Append(" res "); w.Append((uint)t.Reserved); }
        if (t.OffsetProblem != DataOffsetProblem.None) { w.Append(" doff "); w.Append((uint)t.DataOffset); }
        if (!v.TcpChecksumValid) { w.Append(" csum "); w.AppendHex(t.Checksum); }
        if (!v.IsIpv6 && !v.Ipv4.ChecksumValid) { w.Append(" ipcsum "); w.AppendHex(v.Ipv4.HeaderChecksum); }
    }

    /// <summary>packetdrill's flag letters: F S R P U E W N, then '.' for ACK; '-' for none.</summary>
    internal static void WriteFlags(TcpFlags f, ref CharWriter w)
    {
        if (f == TcpFlags.None) { w.Append('-'); return; }
        if ((f & TcpFlags.Fin) != 0) w.Append('F');
        if ((f & TcpFlags.Syn) != 0) w.Append('S');
        if ((f & TcpFlags.Rst) != 0) w.Append('R');
        if ((f & TcpFlags.Psh) != 0) w.Append('P');
        if ((f & TcpFlags.Urg) != 0) w.Append('U');
        if ((f & TcpFlags.Ece) != 0) w.Append('E');
        if ((f & TcpFlags.Cwr) != 0) w.Append('W');
        if ((f & TcpFlags.Ae) != 0) w.Append('N');
        if ((f & TcpFlags.Ack) != 0) w.Append('.');
    }
}
