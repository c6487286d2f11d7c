using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace TcpExposure.Craft.Wire;

/// <summary>
/// A view over a TCP header. <see cref="TryCreate"/> checks that the 20-byte fixed part is there;
/// the option space is what the data offset declares, cut to the bytes actually present, so a data
/// offset that lies never makes an accessor read out of bounds (see <see cref="OffsetProblem"/>).
/// </summary>
public readonly ref struct TcpHeaderView
{
    /// <summary>The TCP segment bytes: header, options and payload.</summary>
    public readonly ReadOnlySpan<byte> Bytes;
    private readonly int _headerLength;

    private TcpHeaderView(ReadOnlySpan<byte> bytes, int headerLength)
    {
        Bytes = bytes;
        _headerLength = headerLength;
    }

    /// <summary>The fixed header length in bytes.</summary>
    public const int MinLength = 20;

    /// <summary>Wraps the segment in <paramref name="segment"/>; false when the fixed header is short.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryCreate(ReadOnlySpan<byte> segment, out TcpHeaderView view)
    {
        view = default;
        if (segment.Length < MinLength)
            return false;
        int declared = (segment[12] >> 4) * 4;
        int header = Math.Clamp(declared, MinLength, segment.Length);
        view = new TcpHeaderView(segment, header);
        return true;
    }

    /// <summary>The sender's port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Bytes);
    /// <summary>The receiver's port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Bytes[2..]);
    /// <summary>Sequence number of the first byte of this segment (of the SYN when SYN is set).</summary>
    public SeqNumber Sequence => BinaryPrimitives.ReadUInt32BigEndian(Bytes[4..]);
    /// <summary>The next sequence number the sender expects; meaningful when ACK is set.</summary>
    public SeqNumber Acknowledgment => BinaryPrimitives.ReadUInt32BigEndian(Bytes[8..]);
    /// <summary>The data offset field in 32-bit words, as found (it may lie).</summary>
    public int DataOffset => Bytes[12] >> 4;
    /// <summary>The three reserved bits between the data offset and NS/AE.</summary>
    public int Reserved => (Bytes[12] >> 1) & 0x7;
    /// <summary>The nine flag bits, CWR..FIN plus AE.</summary>
    public TcpFlags Flags => (TcpFlags)(BinaryPrimitives.ReadUInt16BigEndian(Bytes[12..]) & 0x1FF);
    /// <summary>The raw receive window field, before any window scale shift (RFC 7323).</summary>
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(Bytes[14..]);
    /// <summary>The TCP checksum as found.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(Bytes[16..]);
    /// <summary>Offset past the sequence number where urgent data ends; meaningful when URG is set.</summary>
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(Bytes[18..]);
    /// <summary>The header length used for parsing: the data offset, clamped to what is present.</summary>
    public int HeaderLength => _headerLength;
    /// <summary>The option bytes (possibly fewer than the data offset promises).</summary>
    public ReadOnlySpan<byte> OptionBytes => Bytes[MinLength.._headerLength];
    /// <summary>The bytes after the header length used for parsing.</summary>
    public ReadOnlySpan<byte> Payload => Bytes[_headerLength..];
    /// <summary>Walks the options without allocating.</summary>
    public TcpOptionEnumerator Options => new(OptionBytes);

    /// <summary>What is wrong with the data offset, if anything.</summary>
    public DataOffsetProblem OffsetProblem
        => DataOffset < 5 ? DataOffsetProblem.BelowMinimum
         : DataOffset * 4 > Bytes.Length ? DataOffsetProblem.PastEnd
         : DataOffsetProblem.None;
}

/// <summary>How a data offset can be wrong.</summary>
public enum DataOffsetProblem : byte
{
    /// <summary>The data offset covers the fixed header and stays within the segment.</summary>
    None,
    /// <summary>Below 5 words: it cannot even cover the fixed header.</summary>
    BelowMinimum,
    /// <summary>It points past the end of the segment.</summary>
    PastEnd,
}
