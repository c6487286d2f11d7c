using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;

namespace TcpExposure.Craft.Transport;

/// <summary>The kernel's route to a destination: the interface, our source address and the next hop.</summary>
/// <param name="Destination">The destination asked about.</param>
/// <param name="Interface">The outgoing interface.</param>
/// <param name="Source">The source address the kernel would use.</param>
/// <param name="Gateway">The gateway, or null when the destination is on-link.</param>
/// <param name="IsLocal">The destination is one of this host's (namespace's) own addresses.</param>
/// <param name="Namespace">The network namespace the route was looked up in (null: the current one).</param>
public sealed record Route(IPAddress Destination, string Interface, IPAddress Source, IPAddress? Gateway, bool IsLocal, string? Namespace = null)
{
    /// <summary>The address whose link-layer address frames must carry: the gateway, else the destination.</summary>
    public IPAddress NextHop => Gateway ?? Destination;
}

/// <summary>
/// Routing and neighbour lookups through iproute2's JSON output (<c>ip -j</c>), in the current
/// network namespace or a named one (<c>ip -n NAME</c>). Running <c>ip</c> rather than reading /sys
/// keeps the answers right for any namespace: /sys shows the namespace it was mounted in.
/// </summary>
public static class Routes
{
    /// <summary>The route the kernel uses to reach <paramref name="destination"/>.</summary>
    public static Route Lookup(IPAddress destination, string? netns = null)
    {
        string json = RunIp(netns, destination.AddressFamily == AddressFamily.InterNetworkV6 ? "-6" : "-4", "-j", "route", "get", destination.ToString());
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.GetArrayLength() == 0)
            throw new IOException($"The kernel has no route to {destination}.");
        var r = doc.RootElement[0];
        string dev = r.GetProperty("dev").GetString()!;
        IPAddress? gateway = r.TryGetProperty("gateway", out var g) ? IPAddress.Parse(g.GetString()!) : null;
        IPAddress source = r.TryGetProperty("prefsrc", out var s) ? IPAddress.Parse(s.GetString()!) : SourceAddressFor(destination, netns);
        bool local = r.TryGetProperty("type", out var t) && t.GetString() == "local";
        return new Route(destination, dev, source, gateway, local, netns);
    }

    /// <summary>
    /// The source address the kernel picks for <paramref name="destination"/>: a UDP socket is
    /// connected (which only consults the routing table; nothing is sent) and asked for its address.
    /// </summary>
    public static IPAddress SourceAddressFor(IPAddress destination, string? netns = null)
    {
        using var u = NetworkNamespace.Run(netns, () => new Socket(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        try
        {
            u.Connect(destination, 9);
        }
        catch (SocketException e)
        {
            throw new IOException($"There is no route to {destination} ({e.Message}).", e);
        }
        return ((IPEndPoint)u.LocalEndPoint!).Address;
    }

    /// <summary>The link-layer address of <paramref name="interfaceName"/> (all zeros for loopback).</summary>
    public static PhysicalAddress InterfaceMac(string interfaceName, string? netns = null)
    {
        string json = RunIp(netns, "-j", "link", "show", "dev", interfaceName);
        using var doc = JsonDocument.Parse(json);
        var link = doc.RootElement[0];
        return link.TryGetProperty("address", out var a) ? ParseMac(a.GetString()!) : new PhysicalAddress(new byte[6]);
    }

    /// <summary>The neighbour table's link-layer address for <paramref name="address"/> on <paramref name="interfaceName"/>, or null.</summary>
    public static PhysicalAddress? NeighbourMac(string interfaceName, IPAddress address, string? netns = null)
    {
        string json = RunIp(netns, "-j", "neigh", "show", "to", address.ToString(), "dev", interfaceName);
        using var doc = JsonDocument.Parse(json.Length == 0 ? "[]" : json);
        foreach (var n in doc.RootElement.EnumerateArray())
        {
            if (!n.TryGetProperty("lladdr", out var ll)) continue;
            bool failed = n.TryGetProperty("state", out var st) && st.EnumerateArray().Any(x => x.GetString() is "FAILED" or "INCOMPLETE");
            if (!failed) return ParseMac(ll.GetString()!);
        }
        return null;
    }

    /// <summary>
    /// The next hop's link-layer address, resolved first when the neighbour table lacks it: one UDP
    /// datagram to the discard port of the next hop makes the kernel run ARP / neighbour discovery,
    /// and the table is read again every 10 ms until <paramref name="timeout"/>.
    /// </summary>
    public static async Task<PhysicalAddress> ResolveNextHopMacAsync(Route route, TimeSpan timeout, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        if (route.IsLocal || IsLoopbackInterface(route.Interface, route.Namespace))
            return new PhysicalAddress(new byte[6]);
        if (NeighbourMac(route.Interface, route.NextHop, route.Namespace) is { } known)
            return known;
        using (var u = NetworkNamespace.Run(route.Namespace, () => new Socket(route.NextHop.AddressFamily, SocketType.Dgram, ProtocolType.Udp)))
        {
            try
            {
                u.Connect(route.NextHop, 9);
                u.Send([0]);
            }
            catch (SocketException)
            {
                // The kernel may refuse while resolution is pending; resolution has started anyway.
            }
        }
        long start = time.GetTimestamp();
        while (time.GetElapsedTime(start) < timeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), time, cancellationToken).ConfigureAwait(false);
            if (NeighbourMac(route.Interface, route.NextHop, route.Namespace) is { } mac)
                return mac;
        }
        throw new IOException($"The next hop {route.NextHop} on {route.Interface} did not answer address resolution within {timeout.TotalMilliseconds:0} ms.");
    }

    private static bool IsLoopbackInterface(string name, string? netns)
    {
        string json = RunIp(netns, "-j", "link", "show", "dev", name);
        return json.Contains("\"LOOPBACK\"", StringComparison.Ordinal);
    }

    /// <summary>Parses "aa:bb:cc:dd:ee:ff" (or dashes, or 12 hex digits, or a decimal integer as the legacy API allowed).</summary>
    public static PhysicalAddress ParseMac(string text)
    {
        string t = text.Trim();
        if (ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) && t.Length < 12)
            return FromInteger(v);
        string hex = t.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (hex.Length != 12 || !ulong.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"'{text}' is not a MAC address (expected aa:bb:cc:dd:ee:ff).");
        return new PhysicalAddress(Convert.FromHexString(hex));
    }

    /// <summary>A MAC from the 48-bit integer form the legacy API used.</summary>
    public static PhysicalAddress FromInteger(ulong value)
    {
        var b = new byte[6];
        for (int i = 5; i >= 0; i--, value >>= 8) b[i] = (byte)value;
        return new PhysicalAddress(b);
    }

    private static string RunIp(string? netns, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!string.IsNullOrEmpty(netns))
        {
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(netns);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException("Could not run 'ip' (iproute2).");
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new IOException($"'ip {string.Join(' ', args)}' failed: {error.Trim()}");
        return output.Trim();
    }
}
