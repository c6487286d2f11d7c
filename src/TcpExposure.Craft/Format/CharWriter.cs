using System.Globalization;
using System.Net;

namespace TcpExposure.Craft.Format;

/// <summary>
/// Appends text to a caller's span without allocating. Once something does not fit,
/// <see cref="Overflow"/> stays set and further appends are ignored, so callers check once at the end.
/// </summary>
internal ref struct CharWriter(Span<char> buffer)
{
    private readonly Span<char> _buffer = buffer;
    private int _pos;

    public readonly int Length => _pos;
    public bool Overflow { get; private set; }
    public readonly ReadOnlySpan<char> Written => _buffer[.._pos];

    public void Append(char c)
    {
        if (Overflow || _pos >= _buffer.Length) { Overflow = true; return; }
        _buffer[_pos++] = c;
    }

    public void Append(scoped ReadOnlySpan<char> s)
    {
        if (Overflow || !s.TryCopyTo(_buffer[_pos..])) { Overflow = true; return; }
        _pos += s.Length;
    }

    public void Append(ulong value)
    {
        if (Overflow || !value.TryFormat(_buffer[_pos..], out int n, default, CultureInfo.InvariantCulture)) { Overflow = true; return; }
        _pos += n;
    }

    /// <summary><c>0x</c> and lower-case hex digits, no leading zeros.</summary>
    public void AppendHex(ulong value)
    {
        Append("0x");
        if (Overflow || !value.TryFormat(_buffer[_pos..], out int n, "x", CultureInfo.InvariantCulture)) { Overflow = true; return; }
        _pos += n;
    }

    /// <summary>Lower-case hex digits of every byte, no prefix.</summary>
    public void AppendHexBytes(scoped ReadOnlySpan<byte> bytes)
    {
        if (Overflow || _buffer.Length - _pos < bytes.Length * 2) { Overflow = true; return; }
        const string digits = "0123456789abcdef";
        foreach (byte b in bytes)
        {
            _buffer[_pos++] = digits[b >> 4];
            _buffer[_pos++] = digits[b & 0xF];
        }
    }

    /// <summary>A dotted IPv4 address from its four bytes.</summary>
    public void AppendIpv4(scoped ReadOnlySpan<byte> a)
    {
        Append(a[0]); Append('.'); Append(a[1]); Append('.'); Append(a[2]); Append('.'); Append(a[3]);
    }

    /// <summary>An IPv4 or IPv6 address from its bytes (4 or 16).</summary>
    public void AppendAddress(scoped ReadOnlySpan<byte> a)
    {
        if (a.Length == 4) { AppendIpv4(a); return; }
        var ip = new IPAddress(a);
        if (Overflow || !ip.TryFormat(_buffer[_pos..], out int n)) { Overflow = true; return; }
        _pos += n;
    }

    public void AppendAddress(IPAddress address)
    {
        if (Overflow || !address.TryFormat(_buffer[_pos..], out int n)) { Overflow = true; return; }
        _pos += n;
    }
}
