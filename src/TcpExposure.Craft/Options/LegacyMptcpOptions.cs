using System.Buffers.Binary;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Options;

// The pre-RFC MPTCP draft options that the legacy TCPExposure tools and their responder speak.
// Layouts (big-endian): MP_CAPABLE kind 30 len 14 = token u32, IDSN u64;
// MP_DATA kind 31 len 12 = DSN u32, data length u16, subflow seq u32; MP_ACK kind 32 len 6 = data ack u32.

/// <summary>Legacy draft MP_CAPABLE (kind 30, length 14).</summary>
public sealed class LegacyMpCapableOption(uint token, ulong idsn) : TcpTlvOption
{
    /// <summary>The 32-bit connection token of the legacy draft.</summary>
    public uint Token { get; } = token;
    /// <summary>The initial 64-bit data sequence number.</summary>
    public ulong Idsn { get; } = idsn;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.Mptcp;
    /// <inheritdoc/>
    public override int DataLength => 12;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, Token);
        BinaryPrimitives.WriteUInt64BigEndian(d[4..], Idsn);
    }
}

/// <summary>Legacy draft MP_DATA (kind 31, length 12).</summary>
public sealed class LegacyMpDataOption(uint dsn, ushort dataLength, uint subflowSeq) : TcpTlvOption
{
    /// <summary>The 32-bit data sequence number the mapping starts at.</summary>
    public uint Dsn { get; } = dsn;
    /// <summary>Length of the mapping in bytes.</summary>
    public ushort MappedLength { get; } = dataLength;
    /// <summary>The subflow sequence number the mapping starts at.</summary>
    public uint SubflowSeq { get; } = subflowSeq;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.LegacyMpData;
    /// <inheritdoc/>
    public override int DataLength => 10;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, Dsn);
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], MappedLength);
        BinaryPrimitives.WriteUInt32BigEndian(d[6..], SubflowSeq);
    }
}

/// <summary>Legacy draft MP_ACK (kind 32, length 6).</summary>
public sealed class LegacyMpAckOption(uint dataAck) : TcpTlvOption
{
    /// <summary>The 32-bit data-level cumulative ACK.</summary>
    public uint DataAck { get; } = dataAck;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.LegacyMpAck;
    /// <inheritdoc/>
    public override int DataLength => 4;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) => BinaryPrimitives.WriteUInt32BigEndian(d, DataAck);
}
