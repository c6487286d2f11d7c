using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Responder.Hosting;

/// <summary>
/// Keeps the kernel's own TCP from handling segments to the responder's address and port: an
/// iptables (ip6tables) rule in the raw table,
/// <code>-I PREROUTING [-d ADDR] -p tcp --dport PORT -m comment --comment tcpexposure:PID:START:drop:N -j DROP</code>
/// Packet sockets (our capture ring, libpcap) see a segment before netfilter does, so the
/// responder still gets every one; the kernel then spends nothing on them: no socket lookup, no
/// RST built for a port it has no listener on (which <see cref="RstGuard"/> would only drop on
/// the way out), nothing for the peer's RSTs to our SYN-ACKs. Under a SYN flood that is most of
/// the kernel's work per segment besides our own. Removed on dispose, exit or signal; rules a
/// killed process left behind are removed by the next one, as RstGuard does for its own.
/// </summary>
public sealed class IngressDropRule : IDisposable
{
    private static int _counter;
    private readonly string _program;
    private readonly string[] _spec;
    private readonly string? _netns;
    private readonly CleanupRegistration _cleanup;
    private int _removed;

    private IngressDropRule(string program, string[] spec, string? netns)
    {
        _program = program;
        _spec = spec;
        _netns = netns;
        _cleanup = CleanupRegistry.Register(Remove, $"remove the ingress drop rule {string.Join(' ', spec)}");
    }

    /// <summary>
    /// Adds the rule for <paramref name="address"/> (any address of its family when unspecified)
    /// and <paramref name="port"/> in <paramref name="netns"/> (null: the current namespace).
    /// </summary>
    /// <exception cref="MissingPrivilegeException">CAP_NET_ADMIN is missing.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing or refused the rule.</exception>
    public static IngressDropRule Create(IPAddress address, int port, string? netns = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        Privileges.Require("The ingress drop rule (iptables)", Capability.NetAdmin);
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        string program = v6
            ? ExternalCommand.Require("ip6tables", "iptables", "The ingress drop rule for IPv6")
            : ExternalCommand.Require("iptables", "iptables", "The ingress drop rule");
        netns = string.IsNullOrEmpty(netns) ? null : netns;
        RemoveStale(program, netns);
        string comment = $"{RstGuard.TagPrefix}{ProcessIdentity.Current}:drop:{Interlocked.Increment(ref _counter)}";
        var spec = new List<string> { "PREROUTING" };
        if (!address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any))
            spec.AddRange(["-d", address.ToString()]);
        spec.AddRange(["-p", "tcp", "--dport", port.ToString(CultureInfo.InvariantCulture), "-m", "comment", "--comment", comment, "-j", "DROP"]);
        ExternalCommand.RunChecked(program, ["-w", "-t", "raw", "-I", .. spec], netns);
        return new IngressDropRule(program, [.. spec], netns);
    }

    /// <summary>Deletes tagged raw-table rules whose owner process is gone (a kill -9 left them).</summary>
    private static void RemoveStale(string program, string? netns)
    {
        var listing = ExternalCommand.Run(program, ["-w", "-t", "raw", "-S", "PREROUTING"], netns);
        if (!listing.Succeeded)
            return;
        foreach (var line in listing.StandardOutput.Split('\n'))
        {
            // iptables -S quotes comments; ours hold no spaces, so dropping the quotes and splitting reproduces the rule.
            if (!line.StartsWith("-A PREROUTING ", StringComparison.Ordinal))
                continue;
            var tokens = line.Replace("\"", "", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int c = Array.IndexOf(tokens, "--comment");
            if (c < 0 || c + 1 >= tokens.Length || !tokens[c + 1].StartsWith(RstGuard.TagPrefix, StringComparison.Ordinal)
                || !tokens[c + 1].Contains(":drop:", StringComparison.Ordinal)
                || ProcessIdentity.IsOwnerAlive(tokens[c + 1][RstGuard.TagPrefix.Length..]))
                continue;
            tokens[0] = "-D";
            ExternalCommand.Run(program, ["-w", "-t", "raw", .. tokens], netns);
        }
    }

    private void Remove()
    {
        if (Interlocked.Exchange(ref _removed, 1) != 0)
            return;
        // The namespace may already be gone (its test network was torn down first): then so is the rule.
        if (_netns is not null && !NetworkNamespace.Exists(_netns))
            return;
        ExternalCommand.Run(_program, ["-w", "-t", "raw", "-D", .. _spec], _netns);
    }

    /// <summary>Removes the rule now.</summary>
    public void Dispose() => _cleanup.Dispose();
}
