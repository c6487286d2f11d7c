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
    /// <summary>A well-formed MSS option was seen.</summary>
    public bool HasMss;
    /// <summary>A well-formed window scale option was seen.</summary>
    public bool HasWindowScale;
    /// <summary>A well-formed SACK-permitted option was seen.</summary>
    public bool SackPermitted;
    /// <summary>A well-formed timestamps option was seen.</summary>
    public bool HasTimestamps;
    /// <summary>An option was malformed (a bad length, no length byte, or running past the space).</summary>
    public bool HasMalformed;
    /// <summary>Number of well-formed MPTCP (kind 30) options; <see cref="GetMptcpOption"/> returns the first two.</summary>
    public byte MptcpCount;
    /// <summary>Offset of the first kind-30 option's kind byte within the option space; meaningful when <see cref="MptcpCount"/> &gt; 0.</summary>
    public byte MptcpOffset;
    /// <summary>Offset of the second kind-30 option's kind byte; meaningful when <see cref="MptcpCount"/> &gt; 1.</summary>
    public byte MptcpSecondOffset;
    /// <summary>A legacy (pre-RFC draft) MP_DATA option, kind 31, was present.</summary>
    public bool HasLegacyMpData;
    /// <summary>The legacy MP_DATA's data sequence number; meaningful when <see cref="HasLegacyMpData"/>.</summary>
    public uint LegacyMpDsn;
    /// <summary>The legacy MP_DATA's data length; meaningful when <see cref="HasLegacyMpData"/>.</summary>
    public ushort LegacyMpDataLength;
    /// <summary>The legacy MP_DATA's subflow sequence number; meaningful when <see cref="HasLegacyMpData"/>.</summary>
    public uint LegacyMpSubflowSeq;

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
                case TcpOptionKind.Mptcp when len >= 3:
                    // MPTCP packs several subtypes into kind 30: keep where they are, the caller decodes.
                    if (s.MptcpCount == 0)
                        s.MptcpOffset = (byte)i;
                    else if (s.MptcpCount == 1)
                        s.MptcpSecondOffset = (byte)i;
                    if (s.MptcpCount < byte.MaxValue)
                        s.MptcpCount++;
                    break;
                case TcpOptionKind.LegacyMpData when len == 12:
                    s.LegacyMpDsn = BinaryPrimitives.ReadUInt32BigEndian(data);
                    s.LegacyMpDataLength = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
                    s.LegacyMpSubflowSeq = BinaryPrimitives.ReadUInt32BigEndian(data[6..]);
                    s.HasLegacyMpData = true;
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

    /// <summary>
    /// The whole kind-30 option <paramref name="index"/> (0 or 1; kind and length bytes included)
    /// from the same option space passed to <see cref="Read"/>; empty when there is no such option.
    /// </summary>
    public readonly ReadOnlySpan<byte> GetMptcpOption(ReadOnlySpan<byte> optionSpace, int index)
    {
        if ((uint)index >= Math.Min(MptcpCount, (byte)2))
            return default;
        int at = index == 0 ? MptcpOffset : MptcpSecondOffset;
        if (at + 2 > optionSpace.Length || optionSpace[at] != TcpOptionKind.Mptcp)
            return default;
        int len = optionSpace[at + 1];
        return len < 3 || at + len > optionSpace.Length ? default : optionSpace.Slice(at, len);
    }
}
