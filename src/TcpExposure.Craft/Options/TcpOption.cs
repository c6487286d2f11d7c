namespace TcpExposure.Craft.Options;

/// <summary>
/// A TCP option as a value. Every option knows its wire length and writes itself into a span
/// without allocating. Two options are equal when they are of the same type and encode to the
/// same bytes, so a parse/encode round trip can be checked with <c>==</c> semantics.
/// </summary>
public abstract class TcpOption : IEquatable<TcpOption>
{
    /// <summary>The kind byte.</summary>
    public abstract byte Kind { get; }

    /// <summary>Bytes this option occupies on the wire, kind and length included.</summary>
    public abstract int Length { get; }

    /// <summary>Writes exactly <see cref="Length"/> bytes at the start of <paramref name="destination"/>.</summary>
    public abstract void Write(Span<byte> destination);

    /// <summary>
    /// Writes the option and returns its length: the encoder's path, one virtual call per option
    /// (the hot kinds override it with a single store).
    /// </summary>
    internal virtual int WriteTo(Span<byte> destination)
    {
        int n = Length;
        Write(destination[..n]);
        return n;
    }

    /// <summary>
    /// True when the option's bytes can never change after construction (value fields only, no
    /// caller-owned memory), so an encoder may cache them (see <c>TcpSegment</c>'s header template).
    /// </summary>
    internal virtual bool IsFrozen => false;

    /// <summary>True for options found broken on the wire (<see cref="MalformedOption"/>).</summary>
    public virtual bool IsMalformed => false;

    /// <summary>The option's wire bytes in a new array.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        Write(bytes);
        return bytes;
    }

    /// <summary>True when <paramref name="other"/> is the same option type and encodes to the same bytes.</summary>
    public bool Equals(TcpOption? other)
    {
        if (other is null || other.GetType() != GetType() || other.Length != Length)
            return false;
        int n = Length;
        Span<byte> a = n <= 256 ? stackalloc byte[n] : new byte[n];
        Span<byte> b = n <= 256 ? stackalloc byte[n] : new byte[n];
        Write(a);
        other.Write(b);
        return a.SequenceEqual(b);
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TcpOption o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        Span<byte> a = Length <= 256 ? stackalloc byte[Length] : new byte[Length];
        Write(a);
        var h = new HashCode();
        h.AddBytes(a);
        return h.ToHashCode();
    }

    /// <summary>The option in the packetdrill-style notation (see <c>Format.OptionNotation</c>).</summary>
    public override string ToString() => Format.OptionNotation.Format(this);
}

/// <summary>
/// Base of kind-length-data options. The length byte is computed, unless
/// <see cref="DeclaredLengthOverride"/> says to write a different one on purpose.
/// </summary>
public abstract class TcpTlvOption : TcpOption
{
    /// <summary>Bytes after kind and length.</summary>
    public abstract int DataLength { get; }

    /// <summary>Writes the <see cref="DataLength"/> data bytes.</summary>
    protected abstract void WriteData(Span<byte> destination);

    /// <summary>When set, this value goes in the length byte instead of the real length (to craft a lie).</summary>
    public byte? DeclaredLengthOverride { get; init; }

    /// <inheritdoc/>
    public sealed override int Length => 2 + DataLength;

    /// <inheritdoc/>
    public sealed override void Write(Span<byte> destination) => WriteTo(destination);

    internal override int WriteTo(Span<byte> destination)
    {
        int n = DataLength;
        destination[0] = Kind;
        destination[1] = DeclaredLengthOverride ?? (byte)(2 + n);
        WriteData(destination.Slice(2, n));
        return 2 + n;
    }
}
