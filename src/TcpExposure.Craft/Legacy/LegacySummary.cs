using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Legacy;

/// <summary>
/// The <c>summarize_pkt</c> line written straight from the packet bytes into a stack buffer: the
/// same text as <see cref="LegacyCraft.SummarizeAns1"/> of <see cref="LegacyCraft.ParseHeaders"/>
/// (the fuzz tests compare the two), with one allocation, the string. Options whose legacy form
/// needs the typed parser (RFC 8684 MPTCP) go through it; everything else is formatted from the view.
/// </summary>
internal static class LegacySummary
{
    // The 2 KB line buffer need not be zeroed first: only what was written is read.
    [SkipLocalsInit]
    public static string Summarize(ReadOnlySpan<byte> packet)
    {
        var status = PacketView.TryParse(packet, out var v);
        if (status != PacketStatus.Tcp)
            throw LegacyCraft.NotTcpError(status, v.Protocol);

        Span<char> buffer = stackalloc char[1024];
        var w = new Writer(buffer);
        Line(ref w, v);
        // The buffer holds any real header; should it not, the general path gives the same line.
        return w.Overflow ? LegacyCraft.SummarizeAns1(LegacyCraft.ParseHeaders(packet)) : new string(w.Written);
    }

    // The line itself, out of Summarize: a method with stackalloc is compiled once, without tiering
    // or profile data (JitDisasm shows "Tier0-FullOpts"), and this code gains from both.
    private static void Line(ref Writer w, in PacketView v)
    {
        uint src = 0, dst = 0;
        int pktlen, iphdrlen;
        if (v.IsIpv6)
        {
            pktlen = v.Ipv6.PayloadLength + 40;
            iphdrlen = v.TransportOffset;
        }
        else
        {
            src = v.Ipv4.SourceValue;
            dst = v.Ipv4.DestinationValue;
            pktlen = v.Ipv4.TotalLength;
            iphdrlen = v.Ipv4.HeaderLength;
        }
        var t = v.Tcp;
        w.Address(src); w.Char('.'); w.Number(t.SourcePort); w.Text(" > ");
        w.Address(dst); w.Char('.'); w.Number(t.DestinationPort);
        w.Text(": Flags [0x"); w.Hex((uint)t.Flags); w.Text("], seq "); w.Number(t.Sequence.Value);
        w.Text(", ack "); w.Number(t.Acknowledgment.Value); w.Text(", win "); w.Number(t.Window); w.Text(", ");
        var options = t.OptionBytes;
        if (!options.IsEmpty)
        {
            w.Text("options [");
            Options(ref w, options);
            w.Text("], ");
        }
        w.Text("length "); w.Number((uint)t.Payload.Length); w.Text(", pktlen "); w.Number((uint)pktlen);
        w.Text(", iphdrlen "); w.Number((uint)iphdrlen); w.Text(", tcphdrlen "); w.Number((uint)t.HeaderLength);
        w.Text(" checksum 0x"); w.Hex(t.Checksum); w.Char('\n');
    }

    // Its own method, not inlined: the benchmark SYN's line took about 175 ns with this walk inside
    // Line or Summarize and about 140 ns with it here (scripts/bench.sh --quick SummaryLine).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Options(ref Writer w, ReadOnlySpan<byte> options)
    {
        foreach (var o in new TcpOptionEnumerator(options))
            Option(ref w, o);
    }

    // Mirrors LegacyCraft.FromTyped over TcpOptionParser.FromView(view, MptcpDialect.Legacy).
    private static void Option(ref Writer w, in TcpOptionView o)
    {
        var d = o.Data;
        if (o.Problem != OptionProblem.None)
        {
            w.Text("MALFORMED, "); w.Signed(o.Kind); w.Signed(o.DeclaredLength, comma: true); w.Bytes(d);
            return;
        }
        switch (o.Kind)
        {
            case TcpOptionKind.EndOfOptionList: w.Text("EOL, "); return;
            case TcpOptionKind.NoOperation: w.Text("NOP, "); return;
            case TcpOptionKind.MaximumSegmentSize: w.Text("MSS, "); w.Value(BinaryPrimitives.ReadUInt16BigEndian(d)); return;
            case TcpOptionKind.WindowScale: w.Text("WSCALE, "); w.Value(d[0]); return;
            case TcpOptionKind.SackPermitted: w.Text("SACKOK, "); return;
            case TcpOptionKind.Timestamps:
                w.Text("TIMESTAMP, "); w.Value(BinaryPrimitives.ReadUInt32BigEndian(d)); w.Value(BinaryPrimitives.ReadUInt32BigEndian(d[4..]));
                return;
            case TcpOptionKind.Sack:
                w.Text("SACK, ");
                for (int i = 0; i + 4 <= d.Length; i += 4)
                    w.Value(BinaryPrimitives.ReadUInt32BigEndian(d[i..]));
                return;
            case TcpOptionKind.Md5Signature: w.Text("MD5, "); w.Bytes(d); return;
            case TcpOptionKind.TcpAuthentication: w.Text("AO, "); w.Value(d[0]); w.Value(d[1]); w.Bytes(d[2..]); return;
            case TcpOptionKind.LegacyMpData:
                w.Text("MP_DATA, "); w.Value(BinaryPrimitives.ReadUInt32BigEndian(d)); w.Value(BinaryPrimitives.ReadUInt16BigEndian(d[4..]));
                w.Value(BinaryPrimitives.ReadUInt32BigEndian(d[6..]));
                return;
            case TcpOptionKind.LegacyMpAck: w.Text("MP_ACK, "); w.Value(BinaryPrimitives.ReadUInt32BigEndian(d)); return;
            case TcpOptionKind.FastOpen: w.Text("TFO, "); w.Bytes(d); return;
            case TcpOptionKind.Experimental1 or TcpOptionKind.Experimental2:
                w.Text("EXP, "); w.Value(o.Kind); w.Value(BinaryPrimitives.ReadUInt16BigEndian(d)); w.Bytes(d[2..]);
                return;
            case TcpOptionKind.Mptcp:
                if (d.Length == 12)
                {
                    w.Text("MP_CAPABLE, "); w.Value(BinaryPrimitives.ReadUInt32BigEndian(d));
                    w.Signed(unchecked((long)BinaryPrimitives.ReadUInt64BigEndian(d[4..])), comma: true);
                    return;
                }
                // Whether RFC 8684 bytes are typed or raw is the parser's call; ask it.
                if (TcpOptionParser.FromView(o, MptcpDialect.Legacy) is MptcpOption m)
                {
                    w.Text("MPTCP, "); w.Value((uint)m.Subtype);
                }
                else
                {
                    w.Value(o.Kind);
                }
                w.Bytes(d);
                return;
            default:
                w.Value(o.Kind); w.Bytes(d);
                return;
        }
    }

    // Every append checks room once and then writes directly. Text is inlined at each call site,
    // so its literal has a constant length and the copy becomes one or two vector moves instead of
    // a memmove call; numbers are written two digits at a time. The line is at most some 550
    // characters (a 40-byte option space shown as NOPs is the longest), well inside the buffer, so
    // Overflow is a guard that never fires on a real header.
    private ref struct Writer(Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;
        private int _at;
        public bool Overflow;

        public readonly ReadOnlySpan<char> Written => _buffer[.._at];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Char(char c)
        {
            if ((uint)_at < (uint)_buffer.Length) _buffer[_at++] = c;
            else Overflow = true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Text(string s)
        {
            if ((uint)(_at + s.Length) <= (uint)_buffer.Length)
            {
                s.CopyTo(_buffer.Slice(_at));
                _at += s.Length;
            }
            else Overflow = true;
        }

        // "00".."99": one table read writes two digits.
        private const string Pairs =
            "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
            + "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
            + "8081828384858687888990919293949596979899";

        private static ReadOnlySpan<uint> Pow10 => [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

        // Digit count from the bit length (log10(2) ~ 1233/4096), corrected by one table compare.
        // n | 1 counts the same digits as n (no power of ten is odd but 1) and makes 0 count as 1.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int CountDigits(uint n)
        {
            n |= 1;
            int t = ((BitOperations.Log2(n) + 1) * 1233) >> 12;
            return t + (n >= Pow10[t] ? 1 : 0);
        }

        // Most numbers in the line are one or two digits (octets, flags, option values): those
        // skip the digit count and the loop.
        public void Number(uint n)
        {
            if (n < 10) Char((char)('0' + n));
            else if (n < 100) Short(n, 2);
            else if (n < 1000) Short(n, 3);
            else if (n < 10000) Short(n, 4);
            else LongNumber(n);
        }

        // Two to four digits (ports, octets, lengths, most option values) as one or two pair stores.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Short(uint n, int digits)
        {
            if ((uint)(_at + digits) > (uint)_buffer.Length) { Overflow = true; return; }
            ref char end = ref Unsafe.Add(ref MemoryMarshal.GetReference(_buffer), _at + digits);
            ref byte pairs = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(Pairs.AsSpan()));
            uint hi = n / 100, lo = n - hi * 100;
            Unsafe.WriteUnaligned(ref Unsafe.As<char, byte>(ref Unsafe.Subtract(ref end, 2)), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref pairs, (int)lo * 4)));
            if (digits == 3)
                Unsafe.Subtract(ref end, 3) = (char)('0' + hi);
            else if (digits == 4)
                Unsafe.WriteUnaligned(ref Unsafe.As<char, byte>(ref Unsafe.Subtract(ref end, 4)), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref pairs, (int)hi * 4)));
            _at += digits;
        }

        private void LongNumber(uint n)
        {
            int digits = CountDigits(n);
            if ((uint)(_at + digits) > (uint)_buffer.Length) { Overflow = true; return; }
            ref char start = ref MemoryMarshal.GetReference(_buffer.Slice(_at, digits));
            ref char pairs = ref MemoryMarshal.GetReference(Pairs.AsSpan());
            int i = digits;
            while (n >= 100)
            {
                uint q = n / 100;
                uint r = n - q * 100;
                n = q;
                i -= 2;
                // Two UTF-16 digits are one 32-bit move.
                Unsafe.WriteUnaligned(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref start, i)),
                    Unsafe.ReadUnaligned<uint>(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref pairs, (int)r * 2))));
            }
            if (n >= 10)
                Unsafe.WriteUnaligned(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref start, i - 2)),
                    Unsafe.ReadUnaligned<uint>(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref pairs, (int)n * 2))));
            else
                Unsafe.Add(ref start, i - 1) = (char)('0' + n);
            _at += digits;
        }

        /// <summary>A value in the option list: the number, then ", ".</summary>
        public void Value(uint n)
        {
            Number(n);
            Text(", ");
        }

        public void Signed(long n, bool comma = true)
        {
            if (n is >= 0 and <= uint.MaxValue)
            {
                Number((uint)n);
                if (comma) Text(", ");
                return;
            }
            if (n.TryFormat(_buffer[_at..], out int c, default, CultureInfo.InvariantCulture)) _at += c;
            else Overflow = true;
            if (comma) Text(", ");
        }

        public void Hex(uint n)
        {
            int digits = Math.Max(1, (32 - BitOperations.LeadingZeroCount(n) + 3) >> 2);
            if ((uint)(_at + digits) > (uint)_buffer.Length) { Overflow = true; return; }
            var d = _buffer.Slice(_at, digits);
            for (int i = digits - 1; i >= 0; i--, n >>= 4)
                d[i] = "0123456789abcdef"[(int)(n & 0xF)];
            _at += digits;
        }

        /// <summary>Bytes as the legacy list shows them: "0x" + lower-case hex, then ", "; nothing when empty.</summary>
        public void Bytes(ReadOnlySpan<byte> b)
        {
            if (b.IsEmpty) return;
            Text("0x");
            if (_buffer.Length - _at < b.Length * 2) { Overflow = true; return; }
            Convert.TryToHexStringLower(b, _buffer[_at..], out int c);
            _at += c;
            Text(", ");
        }

        public void Address(uint a)
        {
            Number(a >> 24); Char('.'); Number((a >> 16) & 0xFF); Char('.'); Number((a >> 8) & 0xFF); Char('.'); Number(a & 0xFF);
        }
    }
}
