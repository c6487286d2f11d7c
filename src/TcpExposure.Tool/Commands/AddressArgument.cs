using System.Net;
using System.Net.Sockets;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// Reads an IP address from the command line strictly: IPv4 only as a full dotted quad, IPv6 as
/// a literal. <see cref="IPAddress.TryParse(string, out IPAddress)"/> also takes the inet_aton
/// shorthands ("1" is 0.0.0.1, "10.1" is 10.0.0.1, "0x0a000001"), which on a command line that
/// sends packets are far more likely a typo than a wish.
/// </summary>
internal static class AddressArgument
{
    /// <summary>Whether <paramref name="text"/> is a dotted-quad IPv4 or an IPv6 literal; the address in <paramref name="address"/>.</summary>
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || !IPAddress.TryParse(text, out var parsed))
            return false;
        if (parsed.AddressFamily == AddressFamily.InterNetwork && !IsDottedQuad(text))
            return false;
        address = parsed;
        return true;
    }

    /// <summary>The address, or a <see cref="UsageException"/> naming <paramref name="option"/>.</summary>
    public static IPAddress Parse(string? text, string option) => TryParse(text, out var a)
        ? a
        : throw new UsageException($"{option} '{text}' is not an IP address (IPv4 as four dotted decimal numbers, or IPv6).");

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p) <= 255);
    }
}
