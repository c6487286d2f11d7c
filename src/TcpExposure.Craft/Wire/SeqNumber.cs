using System.Diagnostics;

namespace TcpExposure.Craft.Wire;

/// <summary>
/// A 32-bit TCP sequence number with modulo-2^32 arithmetic and comparison (RFC 9293 section 3.4).
/// Comparison is by signed distance, so it is only meaningful for numbers less than 2^31 apart,
/// which is always the case within one window.
/// </summary>
[DebuggerDisplay("{Value}")]
public readonly struct SeqNumber : IEquatable<SeqNumber>, IComparable<SeqNumber>, ISpanFormattable
{
    /// <summary>The raw 32-bit value as carried on the wire.</summary>
    public readonly uint Value;

    /// <summary>Wraps a raw sequence number.</summary>
    public SeqNumber(uint value) => Value = value;

    /// <summary>Wraps a raw 32-bit sequence number.</summary>
    public static implicit operator SeqNumber(uint value) => new(value);
    /// <summary>The raw 32-bit value.</summary>
    public static explicit operator uint(SeqNumber s) => s.Value;

    /// <summary>Advances (or with a negative delta, rewinds) modulo 2^32.</summary>
    public static SeqNumber operator +(SeqNumber s, int delta) => new(unchecked(s.Value + (uint)delta));
    /// <summary>Advances modulo 2^32.</summary>
    public static SeqNumber operator +(SeqNumber s, uint delta) => new(unchecked(s.Value + delta));
    /// <summary>Rewinds modulo 2^32.</summary>
    public static SeqNumber operator -(SeqNumber s, int delta) => new(unchecked(s.Value - (uint)delta));
    /// <summary>The next sequence number, modulo 2^32.</summary>
    public static SeqNumber operator ++(SeqNumber s) => new(unchecked(s.Value + 1));

    /// <summary>Signed distance <c>a - b</c>: positive when <paramref name="a"/> is after <paramref name="b"/>.</summary>
    public static int operator -(SeqNumber a, SeqNumber b) => unchecked((int)(a.Value - b.Value));

    /// <summary>True when <paramref name="a"/> comes before <paramref name="b"/> in serial-number order (RFC 1982).</summary>
    public static bool operator <(SeqNumber a, SeqNumber b) => a - b < 0;
    /// <summary>True when <paramref name="a"/> comes after <paramref name="b"/> in serial-number order (RFC 1982).</summary>
    public static bool operator >(SeqNumber a, SeqNumber b) => a - b > 0;
    /// <summary>True when <paramref name="a"/> is <paramref name="b"/> or comes before it, modulo 2^32.</summary>
    public static bool operator <=(SeqNumber a, SeqNumber b) => a - b <= 0;
    /// <summary>True when <paramref name="a"/> is <paramref name="b"/> or comes after it, modulo 2^32.</summary>
    public static bool operator >=(SeqNumber a, SeqNumber b) => a - b >= 0;
    /// <summary>True when both hold the same 32-bit value.</summary>
    public static bool operator ==(SeqNumber a, SeqNumber b) => a.Value == b.Value;
    /// <summary>True when the 32-bit values differ.</summary>
    public static bool operator !=(SeqNumber a, SeqNumber b) => a.Value != b.Value;

    /// <summary>The later of two sequence numbers.</summary>
    public static SeqNumber Max(SeqNumber a, SeqNumber b) => a > b ? a : b;

    /// <summary>The earlier of two sequence numbers.</summary>
    public static SeqNumber Min(SeqNumber a, SeqNumber b) => a < b ? a : b;

    /// <summary>True when <c>start &lt;= this &lt; end</c> in sequence space.</summary>
    public bool InRange(SeqNumber start, SeqNumber end) => this - start >= 0 && end - this > 0;

    /// <inheritdoc/>
    public bool Equals(SeqNumber other) => Value == other.Value;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SeqNumber s && s.Value == Value;
    /// <inheritdoc/>
    public override int GetHashCode() => (int)Value;
    /// <summary>Serial-number comparison: the signed distance from <paramref name="other"/> (negative when this comes first).</summary>
    public int CompareTo(SeqNumber other) => this - other;
    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => Value.ToString(format, formatProvider);
    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => Value.TryFormat(destination, out charsWritten, format, provider);
}
