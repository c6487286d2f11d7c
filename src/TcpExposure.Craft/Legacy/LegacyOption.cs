using System.Collections.Immutable;
using System.Globalization;

namespace TcpExposure.Craft.Legacy;

/// <summary>
/// An option in the legacy TCPExposure tuple model: a name and its values, e.g.
/// <c>("MSS", 512)</c>, <c>("SACKOK", "")</c>, <c>("TIMESTAMP", 12345, 0)</c>. Values are
/// <see cref="long"/>, <see cref="string"/> or <see cref="byte"/>[].
/// </summary>
public sealed record LegacyOption(string Name, ImmutableArray<object> Values)
{
    /// <summary>Builds an option tuple from its name and values given inline.</summary>
    public LegacyOption(string name, params object[] values) : this(name, ImmutableArray.Create(values)) { }

    /// <summary>The i-th value as an integer; throws a clear error when it is not one.</summary>
    public long Int(int i)
    {
        if (i >= Values.Length)
            throw new ArgumentException($"Option {Name} needs at least {i + 1} value(s), got {Values.Length}.");
        return Values[i] switch
        {
            long l => l,
            int n => n,
            uint u => u,
            ulong ul => unchecked((long)ul),
            ushort us => us,
            byte b => b,
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p,
            string s when s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h) => unchecked((long)h),
            var v => throw new ArgumentException($"Option {Name} value {i + 1} must be an integer, got '{v}'."),
        };
    }

    /// <summary>The i-th value as bytes (a byte array, a hex string, or empty when absent).</summary>
    public byte[] Bytes(int i)
    {
        if (i >= Values.Length) return [];
        return Values[i] switch
        {
            byte[] b => b,
            string s when s.Length == 0 => [],
            string s => Convert.FromHexString(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s),
            var v => throw new ArgumentException($"Option {Name} value {i + 1} must be bytes, got '{v}'."),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => $"({Name}{string.Concat(Values.Select(v => ", " + v))})";
}
