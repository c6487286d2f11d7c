using System.Net;
using System.Text;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// One iptables (ip6tables) rule of ours, inserted at the top of its chain with the comment
/// <c>tcpexposure:PID:START:KIND:N</c>. The comment names the owning process, so whichever
/// process of ours next touches that table in that namespace deletes the rules a kill -9 left
/// (<see cref="RemoveStale(string, string, string?)"/>). The rule is removed on
/// <see cref="Dispose"/>, on normal exit, Ctrl-C and SIGTERM (through <see cref="CleanupRegistry"/>).
/// <see cref="RstGuard"/>, the responder's ingress drop rule and the stack's port-range guard are
/// all one of these.
/// </summary>
public sealed class TaggedRule : IDisposable
{
    /// <summary>The prefix of every comment we put on a rule.</summary>
    public const string TagPrefix = "tcpexposure:";

    private static readonly HashSet<(string Netns, string Program, string Table)> Swept = [];
    private static int _counter;

    private readonly string[] _spec;
    private readonly IDisposable _cleanup;
    private readonly Lock _gate = new();
    private bool _installed;

    private TaggedRule(string program, string table, string[] spec, string comment, string? netns, string description)
    {
        Program = program;
        Table = table;
        Comment = comment;
        Namespace = netns;
        _spec = spec;
        // Registered before the rule exists, so a signal between the two cannot leak the rule.
        _cleanup = CleanupRegistry.Register(Remove, description);
    }

    /// <summary>iptables or ip6tables, as found on the PATH.</summary>
    public string Program { get; }

    /// <summary>The table holding the rule (filter, raw...).</summary>
    public string Table { get; }

    /// <summary>The rule's comment, unique to it: <c>tcpexposure:PID:START:KIND:N</c>.</summary>
    public string Comment { get; }

    /// <summary>The network namespace holding the rule; null for the current one.</summary>
    public string? Namespace { get; }

    /// <summary>
    /// Inserts <c>CHAIN MATCH... -m comment --comment TAG -j TARGET</c> at the top of
    /// <paramref name="chain"/> in <paramref name="table"/>, first (once per process, table and
    /// namespace) deleting the tagged rules of processes that are gone.
    /// </summary>
    /// <param name="ipv6">ip6tables instead of iptables.</param>
    /// <param name="table">The table: filter, raw, mangle, nat.</param>
    /// <param name="chain">The chain, e.g. OUTPUT or PREROUTING.</param>
    /// <param name="match">The match arguments, e.g. <c>-p tcp --dport 80</c> as separate strings.</param>
    /// <param name="target">The target: DROP, ACCEPT...</param>
    /// <param name="kind">A word for the comment saying what the rule is for ("rst", "drop"...).</param>
    /// <param name="purpose">What needs the rule, for the error when iptables is missing and for the cleanup log.</param>
    /// <param name="netns">The network namespace to put it in; null for the current one.</param>
    /// <exception cref="MissingPrivilegeException">CAP_NET_ADMIN (or CAP_SYS_ADMIN for another namespace) is missing.</exception>
    /// <exception cref="InvalidOperationException">iptables is missing, the namespace does not exist, or iptables refused the rule.</exception>
    public static TaggedRule Insert(bool ipv6, string table, string chain, IReadOnlyList<string> match, string target,
        string kind, string purpose, string? netns = null)
    {
        Privileges.Require($"{purpose} (an iptables rule)", Capability.NetAdmin);
        netns = string.IsNullOrEmpty(netns) ? null : netns;
        if (netns is not null)
        {
            Privileges.Require($"{purpose} in network namespace '{netns}'", Capability.SysAdmin);
            if (!NetworkNamespace.Exists(netns))
                throw new InvalidOperationException($"Network namespace '{netns}' does not exist.");
        }
        string program = ProgramFor(ipv6, purpose);
        RemoveStaleOnce(program, table, netns);
        string comment = $"{TagPrefix}{ProcessIdentity.Current}:{kind}:{Interlocked.Increment(ref _counter)}";
        string[] spec = [chain, .. match, "-m", "comment", "--comment", comment, "-j", target];
        var rule = new TaggedRule(program, table, spec, comment, netns, $"remove {purpose}: -t {table} {string.Join(' ', spec)}");
        try
        {
            rule.Install();
        }
        catch
        {
            rule.Dispose();
            throw;
        }
        return rule;
    }

    /// <summary>
    /// Checks an address and port a rule is about to name, and returns the address to write
    /// (an IPv4-mapped IPv6 address as IPv4, which is what the packets carry).
    /// </summary>
    public static IPAddress CheckEndpoint(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Whether <paramref name="address"/> is the wildcard of its family (a rule then names no address).</summary>
    public static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>
    /// The packet counter of this rule, read from the kernel; -1 when it is not installed or not found.
    /// </summary>
    public long ReadPacketCount()
    {
        lock (_gate)
        {
            if (!_installed)
                return -1;
            string listing = ExternalCommand.RunChecked(Program, ["-w", "-t", Table, "-L", _spec[0], "-v", "-x", "-n"], Namespace);
            foreach (var line in listing.Split('\n'))
            {
                if (!line.Contains($"/* {Comment} */", StringComparison.Ordinal))
                    continue;
                var first = line.AsSpan().TrimStart();
                int space = first.IndexOf(' ');
                if (space > 0 && long.TryParse(first[..space], System.Globalization.NumberStyles.None,
                        System.Globalization.CultureInfo.InvariantCulture, out long packets))
                    return packets;
            }
            return -1;
        }
    }

    /// <summary>Puts the rule (back) into the kernel; nothing when it is there.</summary>
    public void Install()
    {
        lock (_gate)
        {
            if (_installed)
                return;
            ExternalCommand.RunChecked(Program, ["-w", "-t", Table, "-I", .. _spec], Namespace);
            _installed = true;
        }
    }

    /// <summary>Takes the rule out of the kernel until <see cref="Install"/>; nothing when it is not there.</summary>
    /// <exception cref="InvalidOperationException">iptables failed for another reason than the rule (or its namespace) being gone.</exception>
    public void Remove()
    {
        lock (_gate)
        {
            if (!_installed)
                return;
            _installed = false;
            // The namespace may already be gone (its test network was torn down first): then so is the rule.
            if (Namespace is not null && !NetworkNamespace.Exists(Namespace))
                return;
            var result = ExternalCommand.Run(Program, ["-w", "-t", Table, "-D", .. _spec], Namespace);
            if (!result.Succeeded && !result.StandardError.Contains("does a matching rule exist", StringComparison.OrdinalIgnoreCase) &&
                !result.StandardError.Contains("No chain/target/match", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"Cannot remove the rule -t {Table} {string.Join(' ', _spec)}: {result.StandardError.Trim()}");
        }
    }

    /// <summary>Removes the rule now; later calls, exit and signals do nothing more.</summary>
    public void Dispose() => _cleanup.Dispose();

    /// <summary>
    /// Deletes every rule tagged <see cref="TagPrefix"/> in <paramref name="table"/> of network
    /// namespace <paramref name="netns"/> (null: the current one) whose owner process is gone.
    /// Returns how many it deleted; 0 when the table cannot be listed.
    /// </summary>
    public static int RemoveStale(string program, string table, string? netns)
    {
        var listing = ExternalCommand.Run(program, ["-w", "-t", table, "-S"], netns);
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
            if (ExternalCommand.Run(program, ["-w", "-t", table, .. tokens], netns).Succeeded)
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

    internal static string ProgramFor(bool ipv6, string purpose) => ipv6
        ? ExternalCommand.Require("ip6tables", "iptables", $"{purpose} for IPv6")
        : ExternalCommand.Require("iptables", "iptables", purpose);

    private static void RemoveStaleOnce(string program, string table, string? netns)
    {
        lock (Swept)
        {
            if (!Swept.Add((netns ?? "", program, table)))
                return;
        }
        RemoveStale(program, table, netns);
    }
}
