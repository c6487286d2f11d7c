using System.Globalization;
using System.Net;

namespace TcpExposure.Craft.Format;

/// <summary>Reads the values of a notation: numbers (decimal or 0x hex), hex byte strings and addresses.</summary>
internal static class NotationValues
{
    /// <summary>A number from 0 to <paramref name="max"/>, decimal or with a 0x prefix hex.</summary>
    public static ulong Number(Token t, ulong max, string what)
    {
        var s = t.Text.AsSpan();
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || v > max)
            throw TokenCursor.Error(t, $"expected {what}, a number from 0 to {max} (decimal or 0x hex)");
        return v;
    }

    public static byte Byte(Token t, string what) => (byte)Number(t, byte.MaxValue, what);
    public static ushort UInt16(Token t, string what) => (ushort)Number(t, ushort.MaxValue, what);
    public static uint UInt32(Token t, string what) => (uint)Number(t, uint.MaxValue, what);
    public static ulong UInt64(Token t, string what) => Number(t, ulong.MaxValue, what);

    /// <summary>Hex digits (an optional 0x prefix), an even number of them.</summary>
    public static byte[] Hex(Token t, string what)
    {
        var s = t.Text.AsSpan();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            s = s[2..];
        if (s.Length % 2 != 0)
            throw TokenCursor.Error(t, $"expected {what} as hex bytes (an even number of hex digits)");
        var bytes = new byte[s.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
            if (!byte.TryParse(s.Slice(2 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                throw TokenCursor.Error(t, $"expected {what} as hex bytes (0-9, a-f)");
        return bytes;
    }

    public static IPAddress Address(Token t, string what)
    {
        if (!IPAddress.TryParse(t.Text, out var a) || t.Text.Contains(':') && a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            throw TokenCursor.Error(t, $"expected {what}, an IPv4 or IPv6 address");
        return a;
    }
}

/// <summary>
/// Keyword arguments of one option or segment (<c>id 3</c>, <c>backup</c>, ...), in any order.
/// Unknown or repeated keywords are errors that name the token.
/// </summary>
internal sealed class NotationArgs
{
    private readonly Dictionary<string, Token> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _flags = new(StringComparer.OrdinalIgnoreCase);
    private readonly Token _owner;

    private NotationArgs(Token owner) => _owner = owner;

    public static NotationArgs Read(TokenCursor c, Token owner, string[] valued, string[] flags)
    {
        var args = new NotationArgs(owner);
        while (!c.AtEnd)
        {
            var k = c.TakeAny();
            string? key = Array.Find(valued, v => k.Is(v));
            if (key is not null)
            {
                if (args._values.ContainsKey(key))
                    throw TokenCursor.Error(k, $"'{key}' is given twice");
                args._values[key] = c.Take($"a value after '{key}'");
                continue;
            }
            key = Array.Find(flags, v => k.Is(v));
            if (key is null)
                throw TokenCursor.Error(k, $"unknown word in '{owner.Text}' (expected {Expected(valued, flags)})");
            if (!args._flags.Add(key))
                throw TokenCursor.Error(k, $"'{key}' is given twice");
        }
        return args;
    }

    private static string Expected(string[] valued, string[] flags)
        => string.Join(", ", valued.Select(v => v + " N").Concat(flags));

    public bool Has(string flag) => _flags.Contains(flag);
    public bool TryGet(string key, out Token value) => _values.TryGetValue(key, out value);

    public Token Require(string key, string hint)
    {
        if (_values.TryGetValue(key, out var t))
            return t;
        throw TokenCursor.Error(_owner, $"'{_owner.Text}' needs '{key} {hint}'");
    }
}
