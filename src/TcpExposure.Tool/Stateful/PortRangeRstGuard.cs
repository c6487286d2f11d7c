using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Stateful;

/// <summary>
/// Like <see cref="RstGuard"/> but for a range of source ports (the ephemeral ports of our active
/// opens, which the kernel knows nothing about). A <see cref="TaggedRule"/>: what a killed process
/// left is deleted by the next one, and the rule is removed on dispose, exit and signals.
/// </summary>
public sealed class PortRangeRstGuard : IDisposable
{
    private readonly TaggedRule _rule;

    private PortRangeRstGuard(TaggedRule rule) => _rule = rule;

    /// <summary>Drops the kernel's RSTs from <paramref name="address"/> ports <paramref name="first"/> to <paramref name="last"/>.</summary>
    public static PortRangeRstGuard Create(IPAddress address, int first, int last, string? netns)
    {
        address = TaggedRule.CheckEndpoint(address, first);
        TaggedRule.CheckEndpoint(address, last);
        string[] match =
        [
            "-s", address.ToString(), "-p", "tcp", "--sport", string.Create(CultureInfo.InvariantCulture, $"{first}:{last}"),
            .. RstGuard.RstMatch,
        ];
        return new PortRangeRstGuard(TaggedRule.Insert(address.AddressFamily == AddressFamily.InterNetworkV6, "filter", "OUTPUT", match, "DROP",
            "rst-range", "The RST guard", netns));
    }

    /// <summary>Removes the rule now.</summary>
    public void Dispose() => _rule.Dispose();
}
