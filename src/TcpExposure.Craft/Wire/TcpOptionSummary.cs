using System.Buffers.Binary;

namespace TcpExposure.Craft.Wire;

/// <summary>
/// The options a TCP endpoint acts on (MSS, window scale, SACK-permitted, timestamps, SACK
/// blocks), read from an option space in one pass without allocating. Only well-formed options
/// count, with the same rules as <see cref="TcpOptionEnumerator"/>; anything else sets
/// <see cref="HasMalformed"/> and is otherwise ignored. When an option appears twice the last wins.
/// </summary>
public struct TcpOptionSummary
{
    /// <summary>The MSS value; meaningful when <see cref="HasMss"/>.</summary>
    public ushort Mss;
    /// <summary>The window scale shift as sent (RFC 7323 caps its use at 14); meaningful when <see cref="HasWindowScale"/>.</summary>
    public byte WindowScale;
    /// <summary>TSval; meaningful when <see cref="HasTimestamps"/>.</summary>
    public uint TsValue;
    /// <summary>TSecr; meaningful when <see cref="HasTimestamps"/>.</summary>
    public uint TsEcho;
    /// <summary>Number of SACK blocks (0-4) in the SACK option.</summary>
    public byte SackBlockCount;
    /// <summary>Offset of the SACK option's first block within the option space.</summary>
    public byte SackOffset;
    public bool HasMss;
    public bool HasWindowScale;
    public bool SackPermitted;
    public bool HasTimestamps;
    /// <summary>An option was malformed (a bad length, no length byte, or running past the space).</summary>
    public bool HasMalformed;

    /// <summary>Reads <paramref name="optionSpace"/> (the bytes between the fixed TCP header and the data).</summary>
    public static TcpOptionSummary Read(ReadOnlySpan<byte> optionSpace)
    {
        var s = default(TcpOptionSummary);
        int i = 0;
        int n = optionSpace.Length;
        while (i < n)
        {
            byte kind = optionSpace[i];
            if (kind == TcpOptionKind.EndOfOptionList)
                break;
            if (kind == TcpOptionKind.NoOperation)
            {
                i++;
                continue;
            }
            if (i + 1 >= n)
            {
                s.HasMalformed = true;
                break;
            }
            int len = optionSpace[i + 1];
            if (len < 2 || i + len > n)
            {
                s.HasMalformed = true;
                break;
            }
            var data = optionSpace.Slice(i + 2, len - 2);
            switch (kind)
            {
                case TcpOptionKind.MaximumSegmentSize when len == 4:
                    s.Mss = BinaryPrimitives.ReadUInt16BigEndian(data);
                    s.HasMss = true;
                    break;
                case TcpOptionKind.WindowScale when len == 3:
                    s.WindowScale = data[0];
                    s.HasWindowScale = true;
                    break;
                case TcpOptionKind.SackPermitted when len == 2:
                    s.SackPermitted = true;
                    break;
                case TcpOptionKind.Timestamps when len == 10:
                    s.TsValue = BinaryPrimitives.ReadUInt32BigEndian(data);
                    s.TsEcho = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                    s.HasTimestamps = true;
                    break;
                case TcpOptionKind.Sack when len is 10 or 18 or 26 or 34:
                    s.SackBlockCount = (byte)((len - 2) / 8);
                    s.SackOffset = (byte)(i + 2);
                    break;
                default:
                    if (!TcpOptionEnumerator.LengthIsValid(kind, data))
                        s.HasMalformed = true;
                    break;
            }
            i += len;
        }
        return s;
    }

    /// <summary>SACK block <paramref name="index"/> from the same option space passed to <see cref="Read"/>.</summary>
    public readonly bool TryGetSackBlock(ReadOnlySpan<byte> optionSpace, int index, out SeqNumber left, out SeqNumber right)
    {
        left = right = default;
        int at = SackOffset + index * 8;
        if ((uint)index >= SackBlockCount || at + 8 > optionSpace.Length)
            return false;
        left = BinaryPrimitives.ReadUInt32BigEndian(optionSpace[at..]);
        right = BinaryPrimitives.ReadUInt32BigEndian(optionSpace[(at + 4)..]);
        return true;
    }
}
