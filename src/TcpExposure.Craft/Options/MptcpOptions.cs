using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Options;

/// <summary>MPTCP option subtypes (RFC 8684 section 7).</summary>
public enum MptcpSubtype : byte
{
    MpCapable = 0,
    MpJoin = 1,
    Dss = 2,
    AddAddr = 3,
    RemoveAddr = 4,
    MpPrio = 5,
    MpFail = 6,
    MpFastClose = 7,
    MpTcpRst = 8,
    MpExperimental = 15,
}

/// <summary>Base of the RFC 8684 MPTCP options (kind 30): the first data byte carries the subtype in its high nibble.</summary>
public abstract class MptcpOption : TcpTlvOption
{
    public override byte Kind => TcpOptionKind.Mptcp;
    public abstract MptcpSubtype Subtype { get; }
    /// <summary>The subtype nibble with the low nibble given.</summary>
    protected byte First(int lowNibble) => (byte)(((byte)Subtype << 4) | (lowNibble & 0x0F));
}

/// <summary>
/// MP_CAPABLE (RFC 8684 3.1; version 0 is RFC 6824). Lengths 4 (v1 SYN), 12 (one key),
/// 20 (both keys), 22 (+ data-level length), 24 (+ checksum).
/// </summary>
public sealed class MpCapableOption(byte version, byte flags, ulong? senderKey = null, ulong? receiverKey = null,
    ushort? dataLevelLength = null, ushort? checksum = null) : MptcpOption
{
    /// <summary>Flag A: checksum required.</summary>
    public const byte FlagChecksumRequired = 0x80;
    /// <summary>Flag H: HMAC-SHA256.</summary>
    public const byte FlagHmacSha256 = 0x01;

    public byte Version { get; } = version;
    /// <summary>The A..H flag byte.</summary>
    public byte Flags { get; } = flags;
    public ulong? SenderKey { get; } = senderKey;
    public ulong? ReceiverKey { get; } = receiverKey;
    public ushort? DataLevelLength { get; } = dataLevelLength;
    public ushort? Checksum { get; } = checksum;
    public override MptcpSubtype Subtype => MptcpSubtype.MpCapable;
    public override int DataLength => 2 + (SenderKey is null ? 0 : 8) + (ReceiverKey is null ? 0 : 8)
        + (DataLevelLength is null ? 0 : 2) + (Checksum is null ? 0 : 2);
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Version);
        d[1] = Flags;
        int at = 2;
        if (SenderKey is { } s) { BinaryPrimitives.WriteUInt64BigEndian(d[at..], s); at += 8; }
        if (ReceiverKey is { } r) { BinaryPrimitives.WriteUInt64BigEndian(d[at..], r); at += 8; }
        if (DataLevelLength is { } l) { BinaryPrimitives.WriteUInt16BigEndian(d[at..], l); at += 2; }
        if (Checksum is { } c) BinaryPrimitives.WriteUInt16BigEndian(d[at..], c);
    }
}

/// <summary>MP_JOIN on a SYN (length 12).</summary>
public sealed class MpJoinSynOption(bool backup, byte addressId, uint receiverToken, uint senderRandom) : MptcpOption
{
    public bool Backup { get; } = backup;
    public byte AddressId { get; } = addressId;
    public uint ReceiverToken { get; } = receiverToken;
    public uint SenderRandom { get; } = senderRandom;
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    public override int DataLength => 10;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Backup ? 1 : 0);
        d[1] = AddressId;
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], ReceiverToken);
        BinaryPrimitives.WriteUInt32BigEndian(d[6..], SenderRandom);
    }
}

/// <summary>MP_JOIN on a SYN/ACK (length 16).</summary>
public sealed class MpJoinSynAckOption(bool backup, byte addressId, ulong truncatedHmac, uint senderRandom) : MptcpOption
{
    public bool Backup { get; } = backup;
    public byte AddressId { get; } = addressId;
    public ulong TruncatedHmac { get; } = truncatedHmac;
    public uint SenderRandom { get; } = senderRandom;
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    public override int DataLength => 14;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Backup ? 1 : 0);
        d[1] = AddressId;
        BinaryPrimitives.WriteUInt64BigEndian(d[2..], TruncatedHmac);
        BinaryPrimitives.WriteUInt32BigEndian(d[10..], SenderRandom);
    }
}

/// <summary>MP_JOIN on the third ACK (length 24): a 160-bit HMAC.</summary>
public sealed class MpJoinAckOption(ReadOnlyMemory<byte> hmac) : MptcpOption
{
    public ReadOnlyMemory<byte> Hmac { get; } = hmac;
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    public override int DataLength => 2 + Hmac.Length;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        d[1] = 0;
        Hmac.Span.CopyTo(d[2..]);
    }
}

/// <summary>
/// Data Sequence Signal (RFC 8684 3.3): an optional data ACK (4 or 8 bytes), an optional mapping
/// (DSN 4 or 8 bytes, subflow sequence, data-level length, optional checksum) and DATA_FIN.
/// </summary>
public sealed class DssOption : MptcpOption
{
    public bool DataFin { get; init; }
    public ulong? DataAck { get; init; }
    public bool DataAck64 { get; init; }
    /// <summary>The data sequence number; null when the option carries no mapping.</summary>
    public ulong? Dsn { get; init; }
    public bool Dsn64 { get; init; }
    public uint SubflowSeq { get; init; }
    public ushort DataLevelLength { get; init; }
    public ushort? Checksum { get; init; }

    public override MptcpSubtype Subtype => MptcpSubtype.Dss;

    /// <summary>The flag byte: F m M a A.</summary>
    public byte FlagByte => (byte)((DataFin ? 0x10 : 0) | (Dsn is not null && Dsn64 ? 0x08 : 0) | (Dsn is not null ? 0x04 : 0)
        | (DataAck is not null && DataAck64 ? 0x02 : 0) | (DataAck is not null ? 0x01 : 0));

    public override int DataLength => 2 + (DataAck is null ? 0 : DataAck64 ? 8 : 4)
        + (Dsn is null ? 0 : (Dsn64 ? 8 : 4) + 6 + (Checksum is null ? 0 : 2));

    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        d[1] = FlagByte;
        int at = 2;
        if (DataAck is { } a)
        {
            if (DataAck64) { BinaryPrimitives.WriteUInt64BigEndian(d[at..], a); at += 8; }
            else { BinaryPrimitives.WriteUInt32BigEndian(d[at..], (uint)a); at += 4; }
        }
        if (Dsn is { } s)
        {
            if (Dsn64) { BinaryPrimitives.WriteUInt64BigEndian(d[at..], s); at += 8; }
            else { BinaryPrimitives.WriteUInt32BigEndian(d[at..], (uint)s); at += 4; }
            BinaryPrimitives.WriteUInt32BigEndian(d[at..], SubflowSeq);
            BinaryPrimitives.WriteUInt16BigEndian(d[(at + 4)..], DataLevelLength);
            at += 6;
            if (Checksum is { } c) BinaryPrimitives.WriteUInt16BigEndian(d[at..], c);
        }
    }
}

/// <summary>ADD_ADDR (RFC 8684 3.4.1): an address with optional port; a truncated HMAC unless it is an echo.</summary>
public sealed class AddAddrOption(bool echo, byte addressId, IPAddress address, ushort? port = null, ulong? hmac = null) : MptcpOption
{
    public bool Echo { get; } = echo;
    public byte AddressId { get; } = addressId;
    public IPAddress Address { get; } = address;
    public ushort? Port { get; } = port;
    public ulong? Hmac { get; } = hmac;
    public override MptcpSubtype Subtype => MptcpSubtype.AddAddr;
    public override int DataLength => 2 + (Address.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4)
        + (Port is null ? 0 : 2) + (Hmac is null ? 0 : 8);
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Echo ? 1 : 0);
        d[1] = AddressId;
        Address.TryWriteBytes(d[2..], out int n);
        int at = 2 + n;
        if (Port is { } p) { BinaryPrimitives.WriteUInt16BigEndian(d[at..], p); at += 2; }
        if (Hmac is { } h) BinaryPrimitives.WriteUInt64BigEndian(d[at..], h);
    }
}

/// <summary>REMOVE_ADDR (RFC 8684 3.4.2): one or more address IDs.</summary>
public sealed class RemoveAddrOption(ImmutableArray<byte> addressIds) : MptcpOption
{
    public ImmutableArray<byte> AddressIds { get; } = addressIds.IsDefault ? [] : addressIds;
    public override MptcpSubtype Subtype => MptcpSubtype.RemoveAddr;
    public override int DataLength => 1 + AddressIds.Length;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        AddressIds.AsSpan().CopyTo(d[1..]);
    }
}

/// <summary>MP_PRIO (RFC 8684 3.3.8): the backup flag; RFC 6824's form also names an address ID.</summary>
public sealed class MpPrioOption(bool backup, byte? addressId = null) : MptcpOption
{
    public bool Backup { get; } = backup;
    public byte? AddressId { get; } = addressId;
    public override MptcpSubtype Subtype => MptcpSubtype.MpPrio;
    public override int DataLength => AddressId is null ? 1 : 2;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Backup ? 1 : 0);
        if (AddressId is { } id) d[1] = id;
    }
}

/// <summary>MP_FAIL (RFC 8684 3.7): the DSN where the checksum failed.</summary>
public sealed class MpFailOption(ulong dsn) : MptcpOption
{
    public ulong Dsn { get; } = dsn;
    public override MptcpSubtype Subtype => MptcpSubtype.MpFail;
    public override int DataLength => 10;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        d[1] = 0;
        BinaryPrimitives.WriteUInt64BigEndian(d[2..], Dsn);
    }
}

/// <summary>MP_FASTCLOSE (RFC 8684 3.5): the receiver's key.</summary>
public sealed class MpFastCloseOption(ulong receiverKey) : MptcpOption
{
    public ulong ReceiverKey { get; } = receiverKey;
    public override MptcpSubtype Subtype => MptcpSubtype.MpFastClose;
    public override int DataLength => 10;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        d[1] = 0;
        BinaryPrimitives.WriteUInt64BigEndian(d[2..], ReceiverKey);
    }
}

/// <summary>MP_TCPRST (RFC 8684 3.6): U V W T flags and a reason code.</summary>
public sealed class MpTcpRstOption(byte flags, byte reason) : MptcpOption
{
    /// <summary>The low nibble: U V W T.</summary>
    public byte Flags { get; } = flags;
    public byte Reason { get; } = reason;
    public override MptcpSubtype Subtype => MptcpSubtype.MpTcpRst;
    public override int DataLength => 2;
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Flags);
        d[1] = Reason;
    }
}
