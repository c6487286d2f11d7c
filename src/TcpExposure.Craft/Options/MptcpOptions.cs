using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Options;

/// <summary>MPTCP option subtypes (RFC 8684 section 7).</summary>
public enum MptcpSubtype : byte
{
    /// <summary>MP_CAPABLE: keys exchanged on the handshake (RFC 8684 3.1).</summary>
    MpCapable = 0,
    /// <summary>MP_JOIN: adds a subflow to an existing MPTCP connection (RFC 8684 3.2).</summary>
    MpJoin = 1,
    /// <summary>DSS: data sequence mapping and data-level ACK (RFC 8684 3.3).</summary>
    Dss = 2,
    /// <summary>ADD_ADDR: advertises an extra address of the sender (RFC 8684 3.4.1).</summary>
    AddAddr = 3,
    /// <summary>REMOVE_ADDR: withdraws advertised addresses (RFC 8684 3.4.2).</summary>
    RemoveAddr = 4,
    /// <summary>MP_PRIO: changes a subflow's backup priority (RFC 8684 3.3.8).</summary>
    MpPrio = 5,
    /// <summary>MP_FAIL: reports a DSS checksum failure, falling back to TCP (RFC 8684 3.7).</summary>
    MpFail = 6,
    /// <summary>MP_FASTCLOSE: aborts the whole MPTCP connection (RFC 8684 3.5).</summary>
    MpFastClose = 7,
    /// <summary>MP_TCPRST: reason for resetting one subflow (RFC 8684 3.6).</summary>
    MpTcpRst = 8,
    /// <summary>MP_EXPERIMENTAL: reserved for private experiments (subtype 0xF).</summary>
    MpExperimental = 15,
}

/// <summary>Base of the RFC 8684 MPTCP options (kind 30): the first data byte carries the subtype in its high nibble.</summary>
public abstract class MptcpOption : TcpTlvOption
{
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.Mptcp;
    /// <summary>The subtype, written in the high nibble of the first data byte.</summary>
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

    /// <summary>The MPTCP version in the low nibble: 0 for RFC 6824, 1 for RFC 8684.</summary>
    public byte Version { get; } = version;
    /// <summary>The A..H flag byte.</summary>
    public byte Flags { get; } = flags;
    /// <summary>The sender's 64-bit key; null on a version-1 SYN, which carries none.</summary>
    public ulong? SenderKey { get; } = senderKey;
    /// <summary>The receiver's 64-bit key, echoed on the third ACK (and first data); null when absent.</summary>
    public ulong? ReceiverKey { get; } = receiverKey;
    /// <summary>Length of the first data mapping in bytes, when MP_CAPABLE carries data (RFC 8684 3.1); null when absent.</summary>
    public ushort? DataLevelLength { get; } = dataLevelLength;
    /// <summary>The DSS checksum of that first data, when checksums were negotiated; null when absent.</summary>
    public ushort? Checksum { get; } = checksum;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpCapable;
    /// <inheritdoc/>
    public override int DataLength => 2 + (SenderKey is null ? 0 : 8) + (ReceiverKey is null ? 0 : 8)
        + (DataLevelLength is null ? 0 : 2) + (Checksum is null ? 0 : 2);
    /// <inheritdoc/>
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
    /// <summary>Flag B: the sender wants this subflow used only as a backup.</summary>
    public bool Backup { get; } = backup;
    /// <summary>The sender's ID for the address this subflow starts from.</summary>
    public byte AddressId { get; } = addressId;
    /// <summary>Token of the connection to join: a hash of the receiver's key (RFC 8684 3.2).</summary>
    public uint ReceiverToken { get; } = receiverToken;
    /// <summary>The sender's 32-bit nonce for the join HMAC.</summary>
    public uint SenderRandom { get; } = senderRandom;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    /// <inheritdoc/>
    public override int DataLength => 10;
    /// <inheritdoc/>
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
    /// <summary>Flag B: the sender wants this subflow used only as a backup.</summary>
    public bool Backup { get; } = backup;
    /// <summary>The responder's ID for the address this subflow arrives on.</summary>
    public byte AddressId { get; } = addressId;
    /// <summary>The leftmost 64 bits of the responder's join HMAC.</summary>
    public ulong TruncatedHmac { get; } = truncatedHmac;
    /// <summary>The responder's 32-bit nonce for the join HMAC.</summary>
    public uint SenderRandom { get; } = senderRandom;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    /// <inheritdoc/>
    public override int DataLength => 14;
    /// <inheritdoc/>
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
    /// <summary>The initiator's join HMAC (20 bytes for the full 160 bits).</summary>
    public ReadOnlyMemory<byte> Hmac { get; } = hmac;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpJoin;
    /// <inheritdoc/>
    public override int DataLength => 2 + Hmac.Length;
    /// <inheritdoc/>
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
    /// <summary>Flag F: the mapping ends the data stream (DATA_FIN, RFC 8684 3.3.3).</summary>
    public bool DataFin { get; init; }
    /// <summary>The data-level cumulative ACK; null when flag A is clear.</summary>
    public ulong? DataAck { get; init; }
    /// <summary>Flag a: the data ACK is sent as 8 bytes rather than 4.</summary>
    public bool DataAck64 { get; init; }
    /// <summary>The data sequence number; null when the option carries no mapping.</summary>
    public ulong? Dsn { get; init; }
    /// <summary>Flag m: the DSN is sent as 8 bytes rather than 4.</summary>
    public bool Dsn64 { get; init; }
    /// <summary>Subflow-relative sequence number where the mapping starts (relative to the subflow's ISN).</summary>
    public uint SubflowSeq { get; init; }
    /// <summary>Length of the mapping in bytes (a DATA_FIN counts as one); 0 is the infinite mapping used on fallback to TCP (RFC 8684 3.7).</summary>
    public ushort DataLevelLength { get; init; }
    /// <summary>The DSS checksum over the mapped data and pseudo-header, when negotiated; null when absent.</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.Dss;

    /// <summary>The flag byte: F m M a A.</summary>
    public byte FlagByte => (byte)((DataFin ? 0x10 : 0) | (Dsn is not null && Dsn64 ? 0x08 : 0) | (Dsn is not null ? 0x04 : 0)
        | (DataAck is not null && DataAck64 ? 0x02 : 0) | (DataAck is not null ? 0x01 : 0));

    /// <inheritdoc/>
    public override int DataLength => 2 + (DataAck is null ? 0 : DataAck64 ? 8 : 4)
        + (Dsn is null ? 0 : (Dsn64 ? 8 : 4) + 6 + (Checksum is null ? 0 : 2));

    /// <inheritdoc/>
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
    /// <summary>Flag E: this is the echo that acknowledges an ADD_ADDR, so it carries no HMAC.</summary>
    public bool Echo { get; } = echo;
    /// <summary>The sender's ID for the advertised address.</summary>
    public byte AddressId { get; } = addressId;
    /// <summary>The advertised IPv4 or IPv6 address.</summary>
    public IPAddress Address { get; } = address;
    /// <summary>The port to join on, when it differs from the connection's; null when absent.</summary>
    public ushort? Port { get; } = port;
    /// <summary>The truncated 64-bit HMAC that authenticates the advertisement; null on an echo.</summary>
    public ulong? Hmac { get; } = hmac;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.AddAddr;
    /// <inheritdoc/>
    public override int DataLength => 2 + (Address.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4)
        + (Port is null ? 0 : 2) + (Hmac is null ? 0 : 8);
    /// <inheritdoc/>
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
    /// <summary>IDs of the addresses withdrawn.</summary>
    public ImmutableArray<byte> AddressIds { get; } = addressIds.IsDefault ? [] : addressIds;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.RemoveAddr;
    /// <inheritdoc/>
    public override int DataLength => 1 + AddressIds.Length;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(0);
        AddressIds.AsSpan().CopyTo(d[1..]);
    }
}

/// <summary>MP_PRIO (RFC 8684 3.3.8): the backup flag; RFC 6824's form also names an address ID.</summary>
public sealed class MpPrioOption(bool backup, byte? addressId = null) : MptcpOption
{
    /// <summary>Flag B: the subflow should be used only as a backup.</summary>
    public bool Backup { get; } = backup;
    /// <summary>RFC 6824's address ID whose subflows change priority; null in the RFC 8684 form.</summary>
    public byte? AddressId { get; } = addressId;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpPrio;
    /// <inheritdoc/>
    public override int DataLength => AddressId is null ? 1 : 2;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Backup ? 1 : 0);
        if (AddressId is { } id) d[1] = id;
    }
}

/// <summary>MP_FAIL (RFC 8684 3.7): the DSN where the checksum failed.</summary>
public sealed class MpFailOption(ulong dsn) : MptcpOption
{
    /// <summary>The 64-bit data sequence number where the checksum failed.</summary>
    public ulong Dsn { get; } = dsn;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpFail;
    /// <inheritdoc/>
    public override int DataLength => 10;
    /// <inheritdoc/>
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
    /// <summary>The receiver's 64-bit key, proving the sender knows the connection.</summary>
    public ulong ReceiverKey { get; } = receiverKey;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpFastClose;
    /// <inheritdoc/>
    public override int DataLength => 10;
    /// <inheritdoc/>
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
    /// <summary>The reason code (RFC 8684 3.6: 0 unspecified, 1 MPTCP-specific error, 2 lack of resources, ...).</summary>
    public byte Reason { get; } = reason;
    /// <inheritdoc/>
    public override MptcpSubtype Subtype => MptcpSubtype.MpTcpRst;
    /// <inheritdoc/>
    public override int DataLength => 2;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        d[0] = First(Flags);
        d[1] = Reason;
    }
}
