using System.Buffers.Binary;
using System.Collections.Immutable;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Options;

/// <summary>End of option list (kind 0). <see cref="Trailer"/> keeps whatever followed it in the header.</summary>
public sealed class EndOfOptionListOption : TcpOption
{
    internal override bool IsFrozen => Trailer.IsEmpty;
    /// <summary>An EOL with nothing after it.</summary>
    public static readonly EndOfOptionListOption Instance = new();

    /// <summary>Bytes after the EOL up to the end of the option space (normally zero padding).</summary>
    public ReadOnlyMemory<byte> Trailer { get; init; }

    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.EndOfOptionList;
    /// <inheritdoc/>
    public override int Length => 1 + Trailer.Length;
    /// <inheritdoc/>
    public override void Write(Span<byte> destination)
    {
        destination[0] = 0;
        Trailer.Span.CopyTo(destination[1..]);
    }
}

/// <summary>No-operation (kind 1), used for alignment.</summary>
public sealed class NopOption : TcpOption
{
    internal override bool IsFrozen => true;
    /// <summary>The shared instance.</summary>
    public static readonly NopOption Instance = new();
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.NoOperation;
    /// <inheritdoc/>
    public override int Length => 1;
    /// <inheritdoc/>
    public override void Write(Span<byte> destination) => destination[0] = 1;
    internal override int WriteTo(Span<byte> destination)
    {
        destination[0] = 1;
        return 1;
    }
}

/// <summary>Maximum segment size (kind 2, RFC 9293).</summary>
public sealed class MssOption(ushort value) : TcpTlvOption
{
    internal override bool IsFrozen => true;
    /// <summary>The largest segment the sender can receive, in bytes (RFC 9293 3.7.1).</summary>
    public ushort Value { get; } = value;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.MaximumSegmentSize;
    /// <inheritdoc/>
    public override int DataLength => 2;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) => BinaryPrimitives.WriteUInt16BigEndian(d, Value);
    internal override int WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, ((uint)TcpOptionKind.MaximumSegmentSize << 24) | ((uint)(DeclaredLengthOverride ?? 4) << 16) | Value);
        return 4;
    }
}

/// <summary>Window scale (kind 3, RFC 7323).</summary>
public sealed class WindowScaleOption(byte shift) : TcpTlvOption
{
    internal override bool IsFrozen => true;
    /// <summary>The shift count applied to the sender's window field, 0 to 14 (RFC 7323 2.2).</summary>
    public byte Shift { get; } = shift;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.WindowScale;
    /// <inheritdoc/>
    public override int DataLength => 1;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) => d[0] = Shift;
    internal override int WriteTo(Span<byte> d)
    {
        d[2] = Shift;
        d[1] = DeclaredLengthOverride ?? 3;
        d[0] = TcpOptionKind.WindowScale;
        return 3;
    }
}

/// <summary>SACK permitted (kind 4, RFC 2018).</summary>
public sealed class SackPermittedOption : TcpTlvOption
{
    internal override bool IsFrozen => true;
    /// <summary>The shared instance.</summary>
    public static readonly SackPermittedOption Instance = new();
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.SackPermitted;
    /// <inheritdoc/>
    public override int DataLength => 0;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) { }
    internal override int WriteTo(Span<byte> d)
    {
        d[1] = DeclaredLengthOverride ?? 2;
        d[0] = TcpOptionKind.SackPermitted;
        return 2;
    }
}

/// <summary>One SACK block: the received range [Left, Right).</summary>
public readonly record struct SackBlock(SeqNumber Left, SeqNumber Right);

/// <summary>Selective acknowledgment (kind 5, RFC 2018) with one to four blocks.</summary>
public sealed class SackOption(ImmutableArray<SackBlock> blocks) : TcpTlvOption
{
    internal override bool IsFrozen => true;
    /// <summary>Builds the option from blocks given inline.</summary>
    public SackOption(params SackBlock[] blocks) : this(ImmutableArray.Create(blocks)) { }
    /// <summary>The SACK blocks in wire order (at most 4 fit; 3 beside timestamps).</summary>
    public ImmutableArray<SackBlock> Blocks { get; } = blocks.IsDefault ? [] : blocks;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.Sack;
    /// <inheritdoc/>
    public override int DataLength => Blocks.Length * 8;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        for (int i = 0; i < Blocks.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d[(i * 8)..], Blocks[i].Left.Value);
            BinaryPrimitives.WriteUInt32BigEndian(d[(i * 8 + 4)..], Blocks[i].Right.Value);
        }
    }
}

/// <summary>Timestamps (kind 8, RFC 7323).</summary>
public sealed class TimestampsOption(uint value, uint echo) : TcpTlvOption
{
    internal override bool IsFrozen => true;
    /// <summary>TSval: the sender's timestamp clock (RFC 7323 3.2).</summary>
    public uint Value { get; } = value;
    /// <summary>TSecr: the peer's TSval being echoed (TS.Recent, RFC 7323 4.3); meaningful when ACK is set.</summary>
    public uint Echo { get; } = echo;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.Timestamps;
    /// <inheritdoc/>
    public override int DataLength => 8;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, Value);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], Echo);
    }
    internal override int WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d[6..], Echo);
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], Value);
        d[1] = DeclaredLengthOverride ?? 10;
        d[0] = TcpOptionKind.Timestamps;
        return 10;
    }
}

/// <summary>TCP MD5 signature (kind 19, RFC 2385): a 16-byte digest.</summary>
public sealed class Md5SignatureOption(ReadOnlyMemory<byte> digest) : TcpTlvOption
{
    /// <summary>The digest bytes (16 for MD5).</summary>
    public ReadOnlyMemory<byte> Digest { get; } = digest;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.Md5Signature;
    /// <inheritdoc/>
    public override int DataLength => Digest.Length;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) => Digest.Span.CopyTo(d);
}

/// <summary>TCP Authentication Option (kind 29, RFC 5925).</summary>
public sealed class TcpAoOption(byte keyId, byte rNextKeyId, ReadOnlyMemory<byte> mac) : TcpTlvOption
{
    /// <summary>KeyID: the master key tuple that made this MAC (RFC 5925 2.2).</summary>
    public byte KeyId { get; } = keyId;
    /// <summary>RNextKeyID: the key the sender wants to receive with next.</summary>
    public byte RNextKeyId { get; } = rNextKeyId;
    /// <summary>The message authentication code (typically 12 bytes).</summary>
    public ReadOnlyMemory<byte> Mac { get; } = mac;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.TcpAuthentication;
    /// <inheritdoc/>
    public override int DataLength => 2 + Mac.Length;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        d[0] = KeyId;
        d[1] = RNextKeyId;
        Mac.Span.CopyTo(d[2..]);
    }
}

/// <summary>TCP Fast Open cookie (kind 34, RFC 7413); an empty cookie is a cookie request.</summary>
public sealed class FastOpenOption(ReadOnlyMemory<byte> cookie) : TcpTlvOption
{
    /// <summary>The TFO cookie (4 to 16 bytes); empty for a cookie request.</summary>
    public ReadOnlyMemory<byte> Cookie { get; } = cookie;
    /// <inheritdoc/>
    public override byte Kind => TcpOptionKind.FastOpen;
    /// <inheritdoc/>
    public override int DataLength => Cookie.Length;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d) => Cookie.Span.CopyTo(d);
}

/// <summary>Experimental option (kind 253 or 254) with a 16-bit ExID (RFC 6994).</summary>
public sealed class ExperimentalOption : TcpTlvOption
{
    /// <summary>Builds a shared-experiment option (RFC 6994).</summary>
    /// <param name="kind">253 or 254.</param>
    /// <param name="exId">The 16-bit experiment identifier.</param>
    /// <param name="data">The bytes after the ExID.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not 253 or 254.</exception>
    public ExperimentalOption(byte kind, ushort exId, ReadOnlyMemory<byte> data)
    {
        if (kind != TcpOptionKind.Experimental1 && kind != TcpOptionKind.Experimental2)
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Experimental options are kind 253 or 254.");
        ExperimentKind = kind;
        ExId = exId;
        Data = data;
    }
    /// <summary>The kind byte, 253 or 254.</summary>
    public byte ExperimentKind { get; }
    /// <summary>The 16-bit experiment identifier (RFC 6994) that follows the length.</summary>
    public ushort ExId { get; }
    /// <summary>The experiment's bytes after the ExID.</summary>
    public ReadOnlyMemory<byte> Data { get; }
    /// <inheritdoc/>
    public override byte Kind => ExperimentKind;
    /// <inheritdoc/>
    public override int DataLength => 2 + Data.Length;
    /// <inheritdoc/>
    protected override void WriteData(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, ExId);
        Data.Span.CopyTo(d[2..]);
    }
}

/// <summary>
/// Any kind with any bytes: unknown kinds, or known kinds built wrong on purpose.
/// <see cref="TcpTlvOption.DeclaredLengthOverride"/> writes a length byte that lies;
/// <see cref="OmitLength"/> writes the kind byte and data with no length byte at all.
/// </summary>
public sealed class RawOption(byte kind, ReadOnlyMemory<byte> data) : TcpOption
{
    private readonly byte _kind = kind;
    /// <summary>The bytes written after the kind (and length) byte.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;
    /// <summary>The length byte to write instead of the real length.</summary>
    public byte? DeclaredLengthOverride { get; init; }
    /// <summary>Write only the kind byte (then <see cref="Data"/>, if any).</summary>
    public bool OmitLength { get; init; }
    /// <inheritdoc/>
    public override byte Kind => _kind;
    /// <inheritdoc/>
    public override int Length => (OmitLength ? 1 : 2) + Data.Length;
    /// <summary>The value written in the length byte.</summary>
    public int DeclaredLength => OmitLength ? -1 : DeclaredLengthOverride ?? 2 + Data.Length;
    /// <inheritdoc/>
    public override void Write(Span<byte> destination)
    {
        destination[0] = _kind;
        if (OmitLength)
        {
            Data.Span.CopyTo(destination[1..]);
            return;
        }
        destination[1] = (byte)DeclaredLength;
        Data.Span.CopyTo(destination[2..]);
    }
}

/// <summary>
/// An option found broken on the wire, kept exactly as found so that nothing is lost and
/// re-encoding gives the same bytes.
/// </summary>
public sealed class MalformedOption(byte kind, int declaredLength, ReadOnlyMemory<byte> data, OptionProblem problem) : TcpOption
{
    private readonly byte _kind = kind;
    /// <summary>The length byte as found, or -1 when there was none.</summary>
    public int DeclaredLength { get; } = declaredLength;
    /// <summary>The bytes after kind (and length) that were taken as this option's.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;
    /// <summary>What was wrong with the option on the wire.</summary>
    public OptionProblem Problem { get; } = problem;
    /// <inheritdoc/>
    public override bool IsMalformed => true;
    /// <inheritdoc/>
    public override byte Kind => _kind;
    /// <inheritdoc/>
    public override int Length => (DeclaredLength < 0 ? 1 : 2) + Data.Length;
    /// <inheritdoc/>
    public override void Write(Span<byte> destination)
    {
        destination[0] = _kind;
        if (DeclaredLength < 0)
        {
            Data.Span.CopyTo(destination[1..]);
            return;
        }
        destination[1] = (byte)DeclaredLength;
        Data.Span.CopyTo(destination[2..]);
    }

    /// <summary>One sentence saying what is wrong.</summary>
    public string Describe() => Problem switch
    {
        OptionProblem.MissingLength => $"option kind {Kind} has no length byte",
        OptionProblem.LengthTooSmall => $"option kind {Kind} declares length {DeclaredLength}, less than 2",
        OptionProblem.RunsPastHeader => $"option kind {Kind} declares length {DeclaredLength} but only {Data.Length + 2} bytes remain",
        OptionProblem.BadLength => $"option kind {Kind} has length {DeclaredLength}, which its specification does not allow",
        _ => $"option kind {Kind} is malformed",
    };
}
