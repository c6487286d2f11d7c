using System.Globalization;

namespace TcpExposure.Craft.Transport;

/// <summary>Linux capabilities this toolkit needs (bit numbers from <c>linux/capability.h</c>).</summary>
public enum Capability
{
    /// <summary>iptables rules, interface configuration, namespaces' links.</summary>
    NetAdmin = 12,

    /// <summary>Raw IP sockets and AF_PACKET/libpcap capture and injection.</summary>
    NetRaw = 13,

    /// <summary>Entering and creating network namespaces (<c>setns</c>, <c>ip netns</c>).</summary>
    SysAdmin = 21,
}

/// <summary>A required Linux capability is missing; the message says which and how to get it.</summary>
public sealed class MissingPrivilegeException(Capability capability, string message)
    : UnauthorizedAccessException(message)
{
    /// <summary>The capability that is missing.</summary>
    public Capability Capability { get; } = capability;
}

/// <summary>
/// Checks the process's effective capabilities (<c>CapEff</c> in <c>/proc/self/status</c>) before
/// doing something that needs them, so the user gets one sentence that names the capability and
/// how to get it instead of a bare EPERM from deep inside a socket call.
/// </summary>
public static class Privileges
{
    private const string StatusFile = "/proc/self/status";

    /// <summary>The effective capability set as a bit mask; 0 when it cannot be read (not Linux).</summary>
    public static ulong EffectiveCapabilities() => ReadCapEff(StatusFile) ?? 0;

    /// <summary>Parses the <c>CapEff:</c> line of a <c>/proc/PID/status</c> text; null when absent or malformed.</summary>
    public static ulong? ParseCapEff(string statusText)
    {
        foreach (var line in statusText.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
                continue;
            var hex = line["CapEff:".Length..].Trim();
            return ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mask) ? mask : null;
        }
        return null;
    }

    private static ulong? ReadCapEff(string path)
    {
        try
        {
            return ParseCapEff(File.ReadAllText(path));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether the process holds <paramref name="capability"/> in its effective set.</summary>
    public static bool Has(Capability capability) => Has(EffectiveCapabilities(), capability);

    /// <summary>Whether <paramref name="mask"/> contains <paramref name="capability"/>.</summary>
    public static bool Has(ulong mask, Capability capability) => (mask & (1UL << (int)capability)) != 0;

    /// <summary>
    /// Throws <see cref="MissingPrivilegeException"/> unless the process holds every one of
    /// <paramref name="capabilities"/>. <paramref name="what"/> names the operation, e.g.
    /// "Sending over a raw socket".
    /// </summary>
    public static void Require(string what, params ReadOnlySpan<Capability> capabilities)
    {
        ulong mask = EffectiveCapabilities();
        foreach (var cap in capabilities)
            if (!Has(mask, cap))
                throw new MissingPrivilegeException(cap, Message(what, cap));
    }

    /// <summary>The one-sentence error for <paramref name="what"/> lacking <paramref name="capability"/>.</summary>
    public static string Message(string what, Capability capability) => capability switch
    {
        Capability.SysAdmin =>
            $"{what} needs CAP_SYS_ADMIN (network namespaces): run as root.",
        _ =>
            $"{what} needs {Name(capability)}: run as root or grant it with `sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which dotnet))`.",
    };

    /// <summary>The kernel's name of <paramref name="capability"/>, e.g. CAP_NET_RAW.</summary>
    public static string Name(Capability capability) => capability switch
    {
        Capability.NetAdmin => "CAP_NET_ADMIN",
        Capability.NetRaw => "CAP_NET_RAW",
        Capability.SysAdmin => "CAP_SYS_ADMIN",
        _ => $"capability {(int)capability}",
    };
}
