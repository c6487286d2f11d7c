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

    public static implicit operator SeqNumber(uint value) => new(value);
    public static explicit operator uint(SeqNumber s) => s.Value;

    public static SeqNumber operator +(SeqNumber s, int delta) => new(unchecked(s.Value + (uint)delta));
    public static SeqNumber operator +(SeqNumber s, uint delta) => new(unchecked(s.Value + delta));
    public static SeqNumber operator -(SeqNumber s, int delta) => new(unchecked(s.Value - (uint)delta));
    public static SeqNumber operator ++(SeqNumber s) => new(unchecked(s.Value + 1));

    /// <summary>Signed distance <c>a - b</c>: positive when <paramref name="a"/> is after <paramref name="b"/>.</summary>
    public static int operator -(SeqNumber a, SeqNumber b) => unchecked((int)(a.Value - b.Value));

    public static bool operator <(SeqNumber a, SeqNumber b) => a - b < 0;
    public static bool operator >(SeqNumber a, SeqNumber b) => a - b > 0;
    public static bool operator <=(SeqNumber a, SeqNumber b) => a - b <= 0;
    public static bool operator >=(SeqNumber a, SeqNumber b) => a - b >= 0;
    public static bool operator ==(SeqNumber a, SeqNumber b) => a.Value == b.Value;
    public static bool operator !=(SeqNumber a, SeqNumber b) => a.Value != b.Value;

    /// <summary>The later of two sequence numbers.</summary>
    public static SeqNumber Max(SeqNumber a, SeqNumber b) => a > b ? a : b;

    /// <summary>The earlier of two sequence numbers.</summary>
    public static SeqNumber Min(SeqNumber a, SeqNumber b) => a < b ? a : b;

    /// <summary>True when <c>start &lt;= this &lt; end</c> in sequence space.</summary>
    public bool InRange(SeqNumber start, SeqNumber end) => this - start >= 0 && end - this > 0;

    public bool Equals(SeqNumber other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is SeqNumber s && s.Value == Value;
    public override int GetHashCode() => (int)Value;
    public int CompareTo(SeqNumber other) => this - other;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public string ToString(string? format, IFormatProvider? formatProvider) => Value.ToString(format, formatProvider);
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => Value.TryFormat(destination, out charsWritten, format, provider);
}
