using System.Buffers.Binary;

namespace TcpExposure.Craft.Wire;

/// <summary>What is wrong with an option as found on the wire.</summary>
public enum OptionProblem : byte
{
    /// <summary>The option is well formed.</summary>
    None = 0,
    /// <summary>The option kind is the last byte: there is no length byte.</summary>
    MissingLength,
    /// <summary>The length byte is 0 or 1, which cannot cover kind and length.</summary>
    LengthTooSmall,
    /// <summary>The length byte runs past the end of the option space.</summary>
    RunsPastHeader,
    /// <summary>The length is not one the option's specification allows.</summary>
    BadLength,
}

/// <summary>
/// One option as it sits in the header: a view, no copy. <see cref="Data"/> holds the bytes after
/// kind and length; for a malformed option it holds what could be read.
/// </summary>
public readonly ref struct TcpOptionView
{
    /// <summary>The option kind byte.</summary>
    public readonly byte Kind;
    /// <summary>The length byte as found, or -1 for EOL, NOP and an option with no length byte.</summary>
    public readonly int DeclaredLength;
    /// <summary>The bytes after kind and length that belong to this option.</summary>
    public readonly ReadOnlySpan<byte> Data;
    /// <summary>Why the option is malformed, if it is.</summary>
    public readonly OptionProblem Problem;
    /// <summary>Offset of the kind byte within the option space.</summary>
    public readonly int Offset;

    internal TcpOptionView(byte kind, int declaredLength, ReadOnlySpan<byte> data, OptionProblem problem, int offset)
    {
        Kind = kind;
        DeclaredLength = declaredLength;
        Data = data;
        Problem = problem;
        Offset = offset;
    }

    /// <summary>Bytes the option occupies on the wire.</summary>
    public int WireLength => (DeclaredLength < 0 ? 1 : 2) + Data.Length; // EOL: its trailer; NOP and no-length: no data

    /// <summary>The MSS value when this is a well-formed MSS option.</summary>
    public bool TryGetMss(out ushort mss)
    {
        bool ok = Kind == TcpOptionKind.MaximumSegmentSize && Problem == OptionProblem.None && Data.Length == 2;
        mss = ok ? BinaryPrimitives.ReadUInt16BigEndian(Data) : (ushort)0;
        return ok;
    }

    /// <summary>The shift count when this is a well-formed window scale option.</summary>
    public bool TryGetWindowScale(out byte shift)
    {
        bool ok = Kind == TcpOptionKind.WindowScale && Problem == OptionProblem.None && Data.Length == 1;
        shift = ok ? Data[0] : (byte)0;
        return ok;
    }

    /// <summary>TSval and TSecr when this is a well-formed timestamps option.</summary>
    public bool TryGetTimestamps(out uint value, out uint echo)
    {
        bool ok = Kind == TcpOptionKind.Timestamps && Problem == OptionProblem.None && Data.Length == 8;
        value = ok ? BinaryPrimitives.ReadUInt32BigEndian(Data) : 0;
        echo = ok ? BinaryPrimitives.ReadUInt32BigEndian(Data[4..]) : 0;
        return ok;
    }
}

/// <summary>
/// Walks an option space without allocating. Never reads out of bounds and never throws: a
/// malformed option is yielded with its <see cref="TcpOptionView.Problem"/> set, and when its
/// length cannot be trusted it takes the rest of the space and the walk ends.
/// </summary>
public ref struct TcpOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _space;
    private int _next;
    private TcpOptionView _current;

    /// <summary>Starts a walk over <paramref name="optionSpace"/> (the bytes between the fixed header and the data).</summary>
    public TcpOptionEnumerator(ReadOnlySpan<byte> optionSpace)
    {
        _space = optionSpace;
        _next = 0;
        _current = default;
    }

    /// <summary>The option the last <see cref="MoveNext"/> stepped to.</summary>
    public readonly TcpOptionView Current => _current;
    /// <summary>Returns this enumerator, so <c>foreach</c> works over it.</summary>
    public readonly TcpOptionEnumerator GetEnumerator() => this;

    /// <summary>Steps to the next option; false at the end of the option space.</summary>
    public bool MoveNext()
    {
        int at = _next;
        if (at >= _space.Length)
            return false;
        byte kind = _space[at];
        if (kind == TcpOptionKind.EndOfOptionList)
        {
            // Everything after EOL is padding; keep it with the EOL so nothing is lost.
            _current = new TcpOptionView(kind, -1, _space[(at + 1)..], OptionProblem.None, at);
            _next = _space.Length;
            return true;
        }
        if (kind == TcpOptionKind.NoOperation)
        {
            _current = new TcpOptionView(kind, -1, default, OptionProblem.None, at);
            _next = at + 1;
            return true;
        }
        if (at + 1 >= _space.Length)
        {
            _current = new TcpOptionView(kind, -1, default, OptionProblem.MissingLength, at);
            _next = _space.Length;
            return true;
        }
        int len = _space[at + 1];
        if (len < 2)
        {
            _current = new TcpOptionView(kind, len, _space[(at + 2)..], OptionProblem.LengthTooSmall, at);
            _next = _space.Length;
            return true;
        }
        if (at + len > _space.Length)
        {
            _current = new TcpOptionView(kind, len, _space[(at + 2)..], OptionProblem.RunsPastHeader, at);
            _next = _space.Length;
            return true;
        }
        var data = _space.Slice(at + 2, len - 2);
        _current = new TcpOptionView(kind, len, data, LengthIsValid(kind, data) ? OptionProblem.None : OptionProblem.BadLength, at);
        _next = at + len;
        return true;
    }

    /// <summary>Whether the data length is one the kind's specification allows.</summary>
    internal static bool LengthIsValid(byte kind, ReadOnlySpan<byte> data) => kind switch
    {
        TcpOptionKind.MaximumSegmentSize => data.Length == 2,
        TcpOptionKind.WindowScale => data.Length == 1,
        TcpOptionKind.SackPermitted => data.Length == 0,
        TcpOptionKind.Sack => data.Length is 8 or 16 or 24 or 32,
        TcpOptionKind.Timestamps => data.Length == 8,
        TcpOptionKind.Md5Signature => data.Length == 16,
        TcpOptionKind.TcpAuthentication => data.Length >= 2,
        TcpOptionKind.Mptcp => data.Length >= 1,
        TcpOptionKind.LegacyMpData => data.Length == 10,
        TcpOptionKind.LegacyMpAck => data.Length == 4,
        TcpOptionKind.FastOpen => data.Length <= 16 && (data.Length == 0 || data.Length >= 4) && data.Length % 2 == 0,
        TcpOptionKind.Experimental1 or TcpOptionKind.Experimental2 => data.Length >= 2,
        _ => true,
    };
}
