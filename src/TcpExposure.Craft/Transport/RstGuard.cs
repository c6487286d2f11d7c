using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Keeps the kernel quiet on a TCP port it does not own. When our code plays TCP on an
/// address/port with no kernel socket behind it, the kernel answers every segment the peer sends
/// with an RST, which kills the conversation. The guard inserts an iptables (ip6tables for IPv6)
/// rule, in the namespace where that address lives, dropping outgoing RSTs from exactly that
/// address and port:
/// <code>-I OUTPUT -s ADDR -p tcp --sport PORT --tcp-flags RST RST -m mark ! --mark 0x7478 -m comment --comment tcpexposure:PID:START:rst:N -j DROP</code>
/// Packets sent over a raw socket pass the same OUTPUT chain, so our own RSTs carry the firewall
/// mark <see cref="ExemptMark"/> (<see cref="Exempt"/> sets SO_MARK on the socket) and the rule
/// lets them through; libpcap/AF_PACKET injection bypasses netfilter altogether.
/// </summary>
/// <remarks>
/// The rule is removed on <see cref="Dispose"/>, on normal exit, Ctrl-C, SIGTERM (through
/// <see cref="CleanupRegistry"/>), and after a kill -9 by the next guard created in the same
/// namespace, which deletes every tagged rule whose owner process is gone
/// (<see cref="RemoveStale(string?)"/>; the rule is a <see cref="TaggedRule"/>). The rule is inserted at the top of OUTPUT so an earlier ACCEPT
/// cannot shadow it.
/// </remarks>
public sealed class RstGuard : IDisposable
{
    /// <summary>The prefix of every comment we put on a rule.</summary>
    public const string TagPrefix = TaggedRule.TagPrefix;

    /// <summary>The firewall mark (SO_MARK) that exempts a packet from every guard: "tx".</summary>
    public const uint ExemptMark = 0x7478;

    private readonly TaggedRule _rule;
    private readonly Lock _gate = new();
    private bool _disposed;

    private RstGuard(IPAddress address, int port, TaggedRule rule)
    {
        LocalAddress = address;
        LocalPort = port;
        _rule = rule;
    }

    /// <summary>The guarded local address (<see cref="IPAddress.Any"/>/<see cref="IPAddress.IPv6Any"/>: every address).</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The guarded local TCP port.</summary>
    public int LocalPort { get; }

    /// <summary>The network namespace holding the rule; null for the current one.</summary>
    public string? Namespace => _rule.Namespace;

    /// <summary>The rule's comment, unique to this guard: <c>tcpexposure:PID:START:rst:N</c>.</summary>
    public string Comment => _rule.Comment;

    /// <summary>
    /// Adds the rule for <paramref name="localAddress"/>:<paramref name="localPort"/> in network
    /// namespace <paramref name="netns"/> (null: the current one), first removing rules that
    /// crashed processes left there.
    /// </summary>
    /// <exception cref="MissingPrivilegeException">CAP_NET_ADMIN is missing.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing or refused the rule.</exception>
    public static RstGuard Create(IPAddress localAddress, int localPort, string? netns = null)
    {
        localAddress = TaggedRule.CheckEndpoint(localAddress, localPort);
        var match = new List<string>();
        if (!TaggedRule.IsWildcard(localAddress))
            match.AddRange(["-s", localAddress.ToString()]);
        match.AddRange(["-p", "tcp", "--sport", localPort.ToString(CultureInfo.InvariantCulture), .. RstMatch]);
        var rule = TaggedRule.Insert(localAddress.AddressFamily == AddressFamily.InterNetworkV6, "filter", "OUTPUT", match, "DROP",
            "rst", "The RST guard", netns);
        return new RstGuard(localAddress, localPort, rule);
    }

    /// <summary>The match every guard adds after its address and port: RSTs not carrying <see cref="ExemptMark"/>.</summary>
    public static IReadOnlyList<string> RstMatch { get; } = ["--tcp-flags", "RST", "RST", "-m", "mark", "!", "--mark", $"0x{ExemptMark:x}"];

    /// <summary>
    /// Packets (RSTs) the rule has dropped so far, read from the kernel's counters; -1 when the
    /// rule is not installed.
    /// </summary>
    public long DroppedPackets => _rule.ReadPacketCount();

    /// <summary>
    /// Marks everything <paramref name="socket"/> sends with <see cref="ExemptMark"/> (SO_MARK,
    /// needs CAP_NET_ADMIN), so the RSTs our own code crafts on a raw socket pass every guard.
    /// </summary>
    public static void Exempt(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        const int SOL_SOCKET = 1, SO_MARK = 36;
        socket.SetRawSocketOption(SOL_SOCKET, SO_MARK, BitConverter.GetBytes(ExemptMark));
    }

    /// <summary>
    /// Removes the rule until the returned handle is disposed, for the moment our own code must
    /// let the kernel's own RST out (to test what a peer does with it, say).
    /// </summary>
    public IDisposable Suspend()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _rule.Remove();
            return new Resume(this);
        }
    }

    /// <summary>Removes the rule now; later calls, exit and signals do nothing more.</summary>
    public void Dispose()
    {
        lock (_gate)
            _disposed = true;
        _rule.Dispose();
    }

    /// <summary>
    /// Deletes every rule tagged <see cref="TagPrefix"/> in the filter table of network namespace
    /// <paramref name="netns"/> (null: the current one) whose owner process is gone: what a
    /// kill -9 left behind. Returns how many rules it deleted.
    /// </summary>
    public static int RemoveStale(string? netns = null)
    {
        int removed = 0;
        foreach (bool v6 in new[] { false, true })
        {
            string? program = ExternalCommand.Find(v6 ? "ip6tables" : "iptables");
            if (program is not null)
                removed += TaggedRule.RemoveStale(program, "filter", netns);
        }
        return removed;
    }

    /// <summary>Every rule line (<c>-A CHAIN ...</c>) tagged by us in the filter table, for diagnostics and tests.</summary>
    public static IReadOnlyList<string> ListTagged(string? netns = null, bool ipv6 = false)
    {
        string program = TaggedRule.ProgramFor(ipv6, "The RST guard");
        return ExternalCommand.RunChecked(program, ["-w", "-t", "filter", "-S"], netns)
            .Split('\n').Where(l => l.Contains(TagPrefix, StringComparison.Ordinal)).ToArray();
    }

    private string Describe() =>
        $"{(LocalAddress.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{LocalAddress}]" : LocalAddress)}:{LocalPort}" +
        (Namespace is null ? "" : $" in {Namespace}");

    /// <inheritdoc/>
    public override string ToString() => $"RstGuard {Describe()} ({Comment})";

    private sealed class Resume(RstGuard guard) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
                return;
            lock (guard._gate)
            {
                if (!guard._disposed)
                    guard._rule.Install();
            }
        }
    }
}
