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
/// the kernel's work per segment besides our own. A <see cref="TaggedRule"/>: removed on dispose,
/// exit or signal, and rules a killed process left behind are removed by the next one.
/// </summary>
public sealed class IngressDropRule : IDisposable
{
    private readonly TaggedRule _rule;

    private IngressDropRule(TaggedRule rule) => _rule = rule;

    /// <summary>
    /// Adds the rule for <paramref name="address"/> (any address of its family when unspecified)
    /// and <paramref name="port"/> in <paramref name="netns"/> (null: the current namespace).
    /// </summary>
    /// <exception cref="MissingPrivilegeException">CAP_NET_ADMIN is missing.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing or refused the rule.</exception>
    public static IngressDropRule Create(IPAddress address, int port, string? netns = null)
    {
        address = TaggedRule.CheckEndpoint(address, port);
        var match = new List<string>();
        if (!TaggedRule.IsWildcard(address))
            match.AddRange(["-d", address.ToString()]);
        match.AddRange(["-p", "tcp", "--dport", port.ToString(CultureInfo.InvariantCulture)]);
        return new IngressDropRule(TaggedRule.Insert(address.AddressFamily == AddressFamily.InterNetworkV6, "raw", "PREROUTING", match, "DROP",
            "drop", "The ingress drop rule", netns));
    }

    /// <summary>Removes the rule now.</summary>
    public void Dispose() => _rule.Dispose();
}
