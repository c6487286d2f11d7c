using System.Globalization;
using System.Net;

namespace TcpExposure.Tool.Commands;

/// <summary>Reads <c>ADDRESS:PORT</c> command-line values (<c>192.0.2.1:80</c>, <c>[2001:db8::1]:80</c>).</summary>
internal static class EndpointArgument
{
    public static IPEndPoint Parse(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new UsageException($"{option} needs ADDRESS:PORT (for IPv6 [ADDRESS]:PORT).");
        int colon = text.LastIndexOf(':');
        bool v6Bracketed = text.StartsWith('[');
        if (colon < 0 || (v6Bracketed && !text[..colon].EndsWith(']')) || (!v6Bracketed && text.IndexOf(':') != colon))
            throw new UsageException($"{option} '{text}' is not ADDRESS:PORT (write IPv6 as [2001:db8::1]:80).");
        string host = v6Bracketed ? text[1..(colon - 1)] : text[..colon];
        if (!AddressArgument.TryParse(host, out var address))
            throw new UsageException($"{option} '{text}': '{host}' is not an IP address.");
        if (!ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
            throw new UsageException($"{option} '{text}': the port must be a number from 0 to 65535.");
        return new IPEndPoint(address, port);
    }
}
