using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Packets;

/// <summary>
/// An IP packet carrying one TCP segment, as an immutable value: every header field, the typed
/// options and the payload. Lengths and checksums are computed when encoding, unless an override
/// asks for a wrong one. <see cref="Encode"/> writes into a caller's buffer and allocates nothing.
/// </summary>
public sealed record TcpSegment
{
    /// <summary>The IP header (addresses, TTL, ...).</summary>
    public required IpHeader Ip { get; init; }
    /// <summary>The sender's port.</summary>
    public ushort SourcePort { get; init; }
    /// <summary>The receiver's port.</summary>
    public ushort DestinationPort { get; init; }
    /// <summary>Sequence number of the first byte (of the SYN when SYN is set).</summary>
    public SeqNumber Sequence { get; init; }
    /// <summary>The next sequence number the sender expects; meaningful when ACK is set.</summary>
    public SeqNumber Acknowledgment { get; init; }
    /// <summary>The flag bits.</summary>
    public TcpFlags Flags { get; init; }
    /// <summary>The three reserved bits (0-7) between the data offset and NS/AE.</summary>
    public byte Reserved { get; init; }
    /// <summary>The raw receive window field, before the window scale shift (RFC 7323).</summary>
    public ushort Window { get; init; }
    /// <summary>Offset past the sequence number where urgent data ends; meaningful when URG is set.</summary>
    public ushort UrgentPointer { get; init; }
    /// <summary>Options in wire order. Their total is padded with zero bytes to a multiple of 4.</summary>
    public ImmutableArray<TcpOption> Options
    {
        get => _options;
        init
        {
            _options = value.IsDefault ? [] : value;
            _optionsLength = SumLengths(_options);
        }
    }
    private readonly ImmutableArray<TcpOption> _options = [];
    // A pure function of _options (options are immutable), so record equality is unaffected;
    // cached because the encoder needs it before writing and option lengths are virtual calls.
    private readonly int _optionsLength;
    // What Encode remembers about this instance (see Remember); ignored by record equality.
    private EncodeCache _cache;
    /// <summary>The data after the header.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }
    /// <summary>The data offset (in 32-bit words) to write instead of the real one.</summary>
    public byte? DataOffset { get; init; }
    /// <summary>The TCP checksum to write instead of the computed one.</summary>
    public ushort? Checksum { get; init; }

    /// <summary>A segment from <paramref name="source"/> to <paramref name="destination"/> with defaults elsewhere.</summary>
    public static TcpSegment Create(IPEndPoint source, IPEndPoint destination, TcpFlags flags = TcpFlags.None)
    {
        if (source.AddressFamily != destination.AddressFamily)
            throw new ArgumentException("Source and destination must be of the same address family.", nameof(destination));
        IpHeader ip = source.AddressFamily == AddressFamily.InterNetworkV6
            ? new Ipv6Header { Source = source.Address, Destination = destination.Address }
            : new Ipv4Header { Source = source.Address, Destination = destination.Address };
        return new TcpSegment { Ip = ip, SourcePort = (ushort)source.Port, DestinationPort = (ushort)destination.Port, Flags = flags };
    }

    /// <summary>Bytes of option space the options take, before padding.</summary>
    public int OptionsLength => _optionsLength;

    private static int SumLengths(ImmutableArray<TcpOption> options)
    {
        int n = 0;
        foreach (var o in options.AsSpan()) n += o.Length;
        return n;
    }

    /// <summary>TCP header length including padded options.</summary>
    public int TcpHeaderLength => 20 + ((OptionsLength + 3) & ~3);

    /// <summary>TCP header, options and payload.</summary>
    public int TcpLength => TcpHeaderLength + Payload.Length;

    /// <summary>Bytes <see cref="Encode"/> writes.</summary>
    public int GetEncodedLength() => Ip.HeaderLength + TcpLength;

    /// <summary>Sequence space the segment takes: payload plus SYN and FIN.</summary>
    public int SequenceLength => Payload.Length + Flags.SequenceLength();

    /// <summary>Encodes the whole packet; throws when <paramref name="destination"/> is too small.</summary>
    // Compiled once, fully optimised, without tiering or dynamic PGO: the profile-guided build of
    // this short chain came out two to three times slower in some runs (see tests/TcpExposure.Benchmarks).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Encode(Span<byte> destination)
    {
        if (!TryEncode(destination, out int written))
            ThrowEncodeFailed(destination.Length);
        return written;
    }

    // Out of line: the message formatting would otherwise bloat the hot method.
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowEncodeFailed(int bufferLength)
    {
        if (DataOffset is null && OptionsLength > TcpOptionKind.MaxOptionSpace)
            throw new InvalidOperationException($"The options take {OptionsLength} bytes; a TCP header holds at most 40 (set DataOffset to write them anyway).");
        throw new ArgumentException($"The buffer holds {bufferLength} bytes; the segment needs {GetEncodedLength()}.", "destination");
    }

    /// <summary>Encodes the whole packet into <paramref name="destination"/>; false when it does not fit.</summary>
    // Compiled once, fully optimised, without tiering or dynamic PGO: the profile-guided build of
    // this short chain came out two to three times slower in some runs (see tests/TcpExposure.Benchmarks).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryEncode(Span<byte> destination, out int written)
    {
        if (_cache.State is HeaderTemplate t && ReferenceEquals(t.Owner, this))
            return t.TryEncode(destination, Payload.Span, out written);
        if (!TryEncodeDirect(destination, out written))
            return false;
        Remember();
        return true;
    }

    /// <summary>
    /// Encodes field by field, ignoring any cached template (the path a segment's first encode takes;
    /// the benchmarks time it on its own).
    /// </summary>
    internal bool TryEncodeDirect(Span<byte> destination, out int written)
    {
        var ip = Ip;
        int optLen = _optionsLength;
        int ipLen = ip.HeaderLength;
        int tcpHl = 20 + ((optLen + 3) & ~3);
        int tcpLen = tcpHl + Payload.Length;
        written = ipLen + tcpLen;
        if (destination.Length < written || (DataOffset is null && optLen > TcpOptionKind.MaxOptionSpace))
        {
            written = 0;
            return false;
        }
        ip.Write(destination, tcpLen);
        // The pseudo-header comes from the header just written: no second address conversion.
        EncodeTcp(destination.Slice(ipLen, tcpLen), ip.PseudoHeaderSum(destination[..ipLen], tcpLen), tcpHl);
        return true;
    }

    /// <summary>Encodes only the TCP part (for raw sockets where the kernel writes the IP header).</summary>
    public int EncodeTcp(Span<byte> destination)
    {
        if (_cache.State is HeaderTemplate t && ReferenceEquals(t.Owner, this))
        {
            if (!t.TryEncodeTcp(destination, Payload.Span, out int n))
                ThrowTcpTooShort(destination.Length, TcpLength);
            return n;
        }
        int tcpHl = TcpHeaderLength;
        int tcpLen = tcpHl + Payload.Length;
        if (destination.Length < tcpLen)
            ThrowTcpTooShort(destination.Length, tcpLen);
        EncodeTcp(destination[..tcpLen], Ip.PseudoHeaderSum(tcpLen), tcpHl);
        return tcpLen;
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTcpTooShort(int have, int need)
        => throw new ArgumentException($"The buffer holds {have} bytes; the TCP segment needs {need}.", "destination");

    private void EncodeTcp(Span<byte> d, uint pseudo, int hl)
    {
        WriteTcpHeader(d, hl);
        if (Checksum is { } given)
        {
            Payload.Span.CopyTo(d[hl..]);
            BinaryPrimitives.WriteUInt16BigEndian(d[16..], given);
            return;
        }
        // Header words summed in place, the payload summed as it is copied: one pass over each byte.
        uint sum = Wire.Checksum.CopyAndSum(Payload.Span, d[hl..], Wire.Checksum.Sum(d[..hl], pseudo));
        BinaryPrimitives.WriteUInt16BigEndian(d[16..], Wire.Checksum.Finish(sum));
    }

    /// <summary>The TCP header and options, checksum field zero, into <paramref name="d"/> (at least <paramref name="hl"/> bytes).</summary>
    private void WriteTcpHeader(Span<byte> d, int hl)
    {
        d = d[..hl];
        BinaryPrimitives.WriteUInt32BigEndian(d, ((uint)SourcePort << 16) | DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], Sequence.Value);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], Acknowledgment.Value);
        int offset = DataOffset ?? hl / 4;
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], ((uint)((offset << 12) | ((Reserved & 7) << 9) | ((int)Flags & 0x1FF)) << 16) | Window);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], UrgentPointer);
        int at = 20;
        foreach (var o in _options.AsSpan())
        {
            // The usual SYN options by type test (their classes are sealed, so the call is direct
            // and inlined); anything else through the virtual writer.
            var rest = d[at..];
            at += o switch
            {
                MssOption m => m.WriteTo(rest),
                TimestampsOption ts => ts.WriteTo(rest),
                WindowScaleOption ws => ws.WriteTo(rest),
                SackPermittedOption sp => sp.WriteTo(rest),
                NopOption nop => nop.WriteTo(rest),
                _ => o.WriteTo(rest),
            };
        }
        d[at..].Clear();
    }

    /// <summary>
    /// Called after a direct encode succeeded. The first encode of an instance only marks it (no
    /// allocation, so a segment built and sent once costs nothing extra); the second builds the
    /// header template, when every header byte is frozen.
    /// </summary>
    private void Remember()
    {
        if (!ReferenceEquals(_cache.State, this))
        {
            _cache.State = this;
            return;
        }
        if (!Ip.IsFrozen)
            return;
        foreach (var o in _options.AsSpan())
            if (!o.IsFrozen)
                return;
        var ip = Ip;
        int ipLen = ip.HeaderLength;
        int hl = TcpHeaderLength;
        int tcpLen = hl + Payload.Length;
        var bytes = new byte[ipLen + hl];
        ip.Write(bytes, tcpLen);
        WriteTcpHeader(bytes.AsSpan(ipLen), hl);
        uint partial = 0;
        if (Checksum is { } given)
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(ipLen + 16), given);
        else
            partial = Wire.Checksum.Sum(bytes.AsSpan(ipLen), ip.PseudoHeaderSum(bytes.AsSpan(0, ipLen), tcpLen));
        // Published whole: a racing thread sees either no template or a complete one.
        _cache.State = new HeaderTemplate(this, bytes, ipLen, partial, Checksum is null);
    }

    /// <summary>The packet's bytes in a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[GetEncodedLength()];
        Encode(bytes);
        return bytes;
    }

    /// <summary>The checksum <see cref="Encode"/> computes when no override is set.</summary>
    public ushort ComputeChecksum()
    {
        var copy = this with { Checksum = null };
        var bytes = copy.ToArray();
        return BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(Ip.HeaderLength + 16));
    }

    /// <summary>The same segment with a TCP checksum that is wrong by design (the right one with every bit flipped, or 1 if that is 0).</summary>
    public TcpSegment WithWrongChecksum()
    {
        ushort right = ComputeChecksum();
        return this with { Checksum = right == 0xFFFF ? (ushort)1 : (ushort)~right };
    }

    /// <summary>Parses a packet into a value; see <see cref="SegmentParser"/>.</summary>
    public static SegmentParseResult Parse(ReadOnlySpan<byte> packet, MptcpDialect dialect = MptcpDialect.Auto)
        => SegmentParser.Parse(packet, dialect);
}
