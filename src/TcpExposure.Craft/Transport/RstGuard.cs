using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

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
/// (<see cref="RemoveStale(string?)"/>). The rule is inserted at the top of OUTPUT so an earlier ACCEPT
/// cannot shadow it.
/// </remarks>
public sealed class RstGuard : IDisposable
{
    /// <summary>The prefix of every comment we put on a rule.</summary>
    public const string TagPrefix = "tcpexposure:";

    /// <summary>The firewall mark (SO_MARK) that exempts a packet from every guard: "tx".</summary>
    public const uint ExemptMark = 0x7478;

    private static readonly HashSet<(string Netns, bool V6)> Swept = [];
    private static int _counter;

    private readonly string[] _ruleSpec;
    private readonly string _program;
    private readonly IDisposable _cleanup;
    private readonly object _gate = new();
    private bool _installed;
    private bool _disposed;

    private RstGuard(IPAddress address, int port, string? netns, string program, string comment, string[] ruleSpec)
    {
        LocalAddress = address;
        LocalPort = port;
        Namespace = netns;
        Comment = comment;
        _program = program;
        _ruleSpec = ruleSpec;
        // Registered before the rule exists, so a signal between the two cannot leak the rule.
        _cleanup = CleanupRegistry.Register(Remove, $"RST guard {Describe()}");
    }

    /// <summary>The guarded local address (<see cref="IPAddress.Any"/>/<see cref="IPAddress.IPv6Any"/>: every address).</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The guarded local TCP port.</summary>
    public int LocalPort { get; }

    /// <summary>The network namespace holding the rule; null for the current one.</summary>
    public string? Namespace { get; }

    /// <summary>The rule's comment, unique to this guard: <c>tcpexposure:PID:START:rst:N</c>.</summary>
    public string Comment { get; }

    /// <summary>
    /// Adds the rule for <paramref name="localAddress"/>:<paramref name="localPort"/> in network
    /// namespace <paramref name="netns"/> (null: the current one), first removing rules that
    /// crashed processes left there.
    /// </summary>
    /// <exception cref="MissingPrivilegeException">CAP_NET_ADMIN is missing.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing or refused the rule.</exception>
    public static RstGuard Create(IPAddress localAddress, int localPort, string? netns = null)
    {
        ArgumentNullException.ThrowIfNull(localAddress);
        ArgumentOutOfRangeException.ThrowIfLessThan(localPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(localPort, 65535);
        if (localAddress.IsIPv4MappedToIPv6)
            localAddress = localAddress.MapToIPv4();
        Privileges.Require("The RST guard (an iptables rule)", Capability.NetAdmin);
        if (!string.IsNullOrEmpty(netns))
        {
            Privileges.Require($"An RST guard in network namespace '{netns}'", Capability.SysAdmin);
            if (!NetworkNamespace.Exists(netns))
                throw new InvalidOperationException($"Network namespace '{netns}' does not exist.");
        }
        bool v6 = localAddress.AddressFamily == AddressFamily.InterNetworkV6;
        string program = ProgramFor(v6);
        RemoveStaleOnce(netns, v6, program);

        string comment = $"{TagPrefix}{ProcessIdentity.Current}:rst:{Interlocked.Increment(ref _counter)}";
        var spec = new List<string> { "OUTPUT" };
        if (!localAddress.Equals(IPAddress.Any) && !localAddress.Equals(IPAddress.IPv6Any))
            spec.AddRange(["-s", localAddress.ToString()]);
        spec.AddRange(["-p", "tcp", "--sport", localPort.ToString(CultureInfo.InvariantCulture),
            "--tcp-flags", "RST", "RST", "-m", "mark", "!", "--mark", $"0x{ExemptMark:x}", "-m", "comment", "--comment", comment, "-j", "DROP"]);
        var guard = new RstGuard(localAddress, localPort, string.IsNullOrEmpty(netns) ? null : netns, program, comment, [.. spec]);
        try
        {
            guard.Install();
        }
        catch
        {
            guard.Dispose();
            throw;
        }
        return guard;
    }

    /// <summary>
    /// Packets (RSTs) the rule has dropped so far, read from the kernel's counters; -1 when the
    /// rule is not installed.
    /// </summary>
    public long DroppedPackets
    {
        get
        {
            lock (_gate)
            {
                if (!_installed)
                    return -1;
                string listing = ExternalCommand.RunChecked(_program, ["-w", "-t", "filter", "-L", "OUTPUT", "-v", "-x", "-n"], Namespace);
                foreach (var line in listing.Split('\n'))
                {
                    if (!line.Contains($"/* {Comment} */", StringComparison.Ordinal))
                        continue;
                    var first = line.AsSpan().TrimStart();
                    int space = first.IndexOf(' ');
                    if (space > 0 && long.TryParse(first[..space], NumberStyles.None, CultureInfo.InvariantCulture, out long packets))
                        return packets;
                }
                return -1;
            }
        }
    }

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
            Remove();
            return new Resume(this);
        }
    }

    /// <summary>Removes the rule now; later calls, exit and signals do nothing more.</summary>
    public void Dispose()
    {
        lock (_gate)
            _disposed = true;
        _cleanup.Dispose();
    }

    /// <summary>
    /// Deletes every rule tagged <see cref="TagPrefix"/> in network namespace
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
                removed += RemoveStale(netns, program);
        }
        return removed;
    }

    /// <summary>Every rule line (<c>-A CHAIN ...</c>) tagged by us in the filter table, for diagnostics and tests.</summary>
    public static IReadOnlyList<string> ListTagged(string? netns = null, bool ipv6 = false)
    {
        string program = ProgramFor(ipv6);
        return ExternalCommand.RunChecked(program, ["-w", "-t", "filter", "-S"], netns)
            .Split('\n').Where(l => l.Contains(TagPrefix, StringComparison.Ordinal)).ToArray();
    }

    private static string ProgramFor(bool v6) => v6
        ? ExternalCommand.Require("ip6tables", "iptables", "The RST guard for IPv6")
        : ExternalCommand.Require("iptables", "iptables", "The RST guard");

    private static void RemoveStaleOnce(string? netns, bool v6, string program)
    {
        lock (Swept)
        {
            if (!Swept.Add((netns ?? "", v6)))
                return;
        }
        RemoveStale(netns, program);
    }

    private static int RemoveStale(string? netns, string program)
    {
        var listing = ExternalCommand.Run(program, ["-w", "-t", "filter", "-S"], netns);
        if (!listing.Succeeded)
            return 0;
        int removed = 0;
        foreach (var line in listing.StandardOutput.Split('\n'))
        {
            if (!line.StartsWith("-A ", StringComparison.Ordinal))
                continue;
            var tokens = Tokenize(line);
            int c = tokens.IndexOf("--comment");
            if (c < 0 || c + 1 >= tokens.Count || !tokens[c + 1].StartsWith(TagPrefix, StringComparison.Ordinal))
                continue;
            if (ProcessIdentity.IsOwnerAlive(tokens[c + 1][TagPrefix.Length..]))
                continue;
            tokens[0] = "-D";
            if (ExternalCommand.Run(program, ["-w", "-t", "filter", .. tokens], netns).Succeeded)
                removed++;
        }
        return removed;
    }

    /// <summary>Splits an <c>iptables -S</c> line into arguments, honouring its double quotes.</summary>
    internal static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '\\' && i + 1 < line.Length) current.Append(line[++i]);
                else if (ch == '"') quoted = false;
                else current.Append(ch);
            }
            else if (ch == '"') { quoted = true; any = true; }
            else if (char.IsWhiteSpace(ch))
            {
                if (any || current.Length > 0) tokens.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else current.Append(ch);
        }
        if (any || current.Length > 0)
            tokens.Add(current.ToString());
        return tokens;
    }

    private void Install()
    {
        lock (_gate)
        {
            if (_installed)
                return;
            ExternalCommand.RunChecked(_program, ["-w", "-t", "filter", "-I", .. _ruleSpec], Namespace);
            _installed = true;
        }
    }

    private void Remove()
    {
        lock (_gate)
        {
            if (!_installed)
                return;
            _installed = false;
            // The namespace may already be gone (its test network was torn down first): then so is the rule.
            if (Namespace is not null && !NetworkNamespace.Exists(Namespace))
                return;
            var result = ExternalCommand.Run(_program, ["-w", "-t", "filter", "-D", .. _ruleSpec], Namespace);
            if (!result.Succeeded && !result.StandardError.Contains("does a matching rule exist", StringComparison.OrdinalIgnoreCase) &&
                !result.StandardError.Contains("No chain/target/match", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"Cannot remove the RST guard rule {Describe()}: {result.StandardError.Trim()}");
        }
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
                    guard.Install();
            }
        }
    }
}
