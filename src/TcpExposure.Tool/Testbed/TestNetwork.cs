using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Testbed;

/// <summary>
/// A network of hosts on this machine made of network namespaces and veth pairs:
/// <c>cli -- rtr -- srv</c>, or <c>cli -- rtr1 -- ... -- rtrN -- srv</c>, with IPv4 and IPv6
/// addresses, routes, forwarding on the routers and the router impairments iptables can do
/// (random loss, option stripping, MSS clamping, NAT). Used by the integration tests, the demo
/// and <c>tcpexposure testbed</c>.
/// </summary>
/// <remarks>
/// <para>Addressing: link <c>i</c> (0 = the one at cli, N = the one at srv) is
/// <c>10.77.i.0/24</c> and <c>fd77:0:0:i::/64</c>; the end nearer cli is <c>.1</c>/<c>::1</c>,
/// the end nearer srv <c>.2</c>/<c>::2</c>. With one router: cli 10.77.0.1, rtr 10.77.0.2 and
/// 10.77.1.1, srv 10.77.1.2. These addresses exist only inside the namespaces, so every network
/// can use them at the same time without colliding.</para>
/// <para>Names: every namespace is <c>PREFIX-HOST</c>. The default prefix is <c>tx&lt;pid&gt;x&lt;n&gt;</c>,
/// unique per process and network. Interfaces inside are eth0 (toward cli) and eth1 (toward srv);
/// nothing is created in the caller's namespace.</para>
/// <para>Clean-up: <see cref="Dispose"/>, process exit, Ctrl-C and SIGTERM delete the namespaces
/// (which takes their veths and iptables rules with them) after killing the processes running
/// inside; every <see cref="Create"/> first deletes the namespaces of networks whose process died
/// without cleaning up (kill -9).</para>
/// </remarks>
public sealed partial class TestNetwork : IDisposable
{
    /// <summary>The IPv4 prefix length of every link.</summary>
    public const int Ipv4PrefixLength = 24;

    /// <summary>The IPv6 prefix length of every link.</summary>
    public const int Ipv6PrefixLength = 64;

    private static int _counter;

    private readonly List<Process> _processes = [];
    private readonly CleanupRegistration _cleanup;
    private readonly List<TestHost> _hosts = [];
    private readonly object _buildGate = new();
    private volatile bool _disposed;
    private bool _tornDown;

    private TestNetwork(string prefix, TestNetworkOptions options)
    {
        Prefix = prefix;
        Options = options;
        _cleanup = CleanupRegistry.Register(TearDown, $"test network {prefix}");
    }

    /// <summary>The namespace name prefix.</summary>
    public string Prefix { get; }

    /// <summary>What it was built with.</summary>
    public TestNetworkOptions Options { get; }

    /// <summary>Every host from cli to srv.</summary>
    public IReadOnlyList<TestHost> Hosts => _hosts;

    /// <summary>The client end.</summary>
    public TestHost Client => _hosts[0];

    /// <summary>The server end.</summary>
    public TestHost Server => _hosts[^1];

    /// <summary>The routers from cli to srv.</summary>
    public IReadOnlyList<TestHost> Routers => _hosts.Where(h => h.IsRouter).ToArray();

    /// <summary>The router carrying the impairments.</summary>
    public TestHost ImpairedRouter => _hosts[Options.ImpairedRouter];

    /// <summary>The host called <paramref name="name"/> (cli, srv, rtr, rtr1, ...; "rtr" also names rtr1).</summary>
    public TestHost this[string name] => Find(name) ??
        throw new ArgumentException($"The test network has no host '{name}'; it has {string.Join(", ", _hosts.Select(h => h.Name))}.");

    /// <summary>The host called <paramref name="name"/>, or null.</summary>
    public TestHost? Find(string name) =>
        _hosts.FirstOrDefault(h => h.Name == name) ?? (name == "rtr" ? _hosts.FirstOrDefault(h => h.Name == "rtr1") : null);

    /// <summary>Whether <paramref name="name"/> is a usable prefix: a letter, then up to 19 letters, digits, '_' or '.'.</summary>
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    /// <summary>
    /// Builds the network. Sweeps leftovers of dead processes first. On failure everything
    /// built so far is removed again.
    /// </summary>
    /// <exception cref="MissingPrivilegeException">Not root (CAP_SYS_ADMIN, CAP_NET_ADMIN).</exception>
    /// <exception cref="InvalidOperationException">A tool is missing, the name is taken, or a step failed.</exception>
    public static TestNetwork Create(TestNetworkOptions? options = null, Action<string>? progress = null)
    {
        options ??= new TestNetworkOptions();
        options.Validate();
        Privileges.Require("Building the test network", Capability.SysAdmin, Capability.NetAdmin);
        ExternalCommand.Require("ip", "iproute2", "Building the test network");
        if (options.HasImpairments)
        {
            ExternalCommand.Require("iptables", "iptables", "Router impairments");
            ExternalCommand.Require("ip6tables", "iptables", "Router impairments");
        }
        RemoveStale(progress);

        string prefix = options.Name ?? $"tx{Environment.ProcessId}x{Interlocked.Increment(ref _counter)}";
        var names = HostNames(options.Routers);
        var taken = names.Where(n => NetworkNamespace.Exists($"{prefix}-{n}")).ToArray();
        if (taken.Length > 0)
            throw new InvalidOperationException(
                $"Test network '{prefix}' already exists (namespace {prefix}-{taken[0]}); remove it with 'tcpexposure testbed down --name {prefix}'.");

        var network = new TestNetwork(prefix, options);
        try
        {
            network.Build(names, progress);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>
    /// Rebuilds the description of a network some other process created with
    /// <paramref name="options"/> (for <c>testbed exec</c>/<c>down</c>); nothing is created and
    /// nothing is registered for clean-up, so it outlives this object unless
    /// <see cref="Destroy"/> is called.
    /// </summary>
    public static TestNetwork Attach(string prefix, TestNetworkOptions options)
    {
        var network = new TestNetwork(prefix, options with { Name = prefix });
        network._cleanup.Forget(); // not ours to tear down at exit
        network._hosts.AddRange(Describe(prefix, HostNames(options.Routers)));
        return network;
    }

    /// <summary>Deletes every namespace of the network named <paramref name="prefix"/> (any of cli, rtr*, srv present).</summary>
    public static int Destroy(string prefix)
    {
        int removed = 0;
        foreach (var ns in ListNamespaces().Where(n => n.StartsWith(prefix + "-", StringComparison.Ordinal) && HostPart().IsMatch(n[(prefix.Length + 1)..])))
        {
            DeleteNamespace(ns);
            removed++;
        }
        return removed;
    }

    /// <summary>
    /// Deletes the namespaces of test networks whose creating process is gone (kill -9, a crash,
    /// a power cut): every <c>tx…&lt;pid&gt;x&lt;n&gt;-HOST</c> whose pid is not running. Returns
    /// how many namespaces it deleted. Called by every <see cref="Create"/>.
    /// </summary>
    public static int RemoveStale(Action<string>? progress = null)
    {
        int removed = 0;
        foreach (var ns in ListNamespaces())
        {
            var m = StalePattern().Match(ns);
            if (!m.Success || !int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            if (ProcessIdentity.IsAlive(pid))
                continue;
            progress?.Invoke($"removing namespace {ns} left behind by process {pid}");
            DeleteNamespace(ns);
            removed++;
        }
        return removed;
    }

    /// <summary>Runs <paramref name="command"/> in <paramref name="host"/> and waits for it.</summary>
    public CommandResult Exec(string host, params string[] command) => Exec(host, command, null);

    /// <summary>Runs <paramref name="command"/> in <paramref name="host"/>, killing it after <paramref name="timeout"/>.</summary>
    public CommandResult Exec(string host, IReadOnlyList<string> command, TimeSpan? timeout)
    {
        if (command.Count == 0)
            throw new ArgumentException("No command given.", nameof(command));
        return ExternalCommand.Run(command[0], command.Skip(1), this[host].Namespace, timeout);
    }

    /// <summary>Like <see cref="Exec(string, string[])"/> but throws when the command fails; returns its stdout.</summary>
    public string ExecChecked(string host, params string[] command)
    {
        if (command.Length == 0)
            throw new ArgumentException("No command given.", nameof(command));
        return ExternalCommand.RunChecked(command[0], command.Skip(1), this[host].Namespace);
    }

    /// <summary>
    /// Starts <paramref name="program"/> in <paramref name="host"/> with stdin, stdout and stderr
    /// redirected, and does not wait. The network kills it when it is torn down.
    /// </summary>
    public Process StartProcess(string host, string program, params string[] arguments)
    {
        var psi = ExternalCommand.StartInfo(program, arguments, this[host].Namespace);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Cannot start {program} in {host}.");
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Starts the kernel's TCP listener <c>nc -d -l [-6] PORT</c> in <paramref name="host"/> and
    /// returns once the port is listening (<c>ss</c> shows it). What the peer sends appears on the
    /// process's stdout; the listener exits when the peer closes.
    /// </summary>
    public async Task<Process> StartListenerAsync(string host, int port, bool ipv6 = false, TimeSpan? timeout = null)
    {
        string p = port.ToString(CultureInfo.InvariantCulture);
        var process = ipv6 ? StartProcess(host, "nc", "-6", "-d", "-l", p) : StartProcess(host, "nc", "-d", "-l", p);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!ExecChecked(host, "ss", "-Hltn", $"sport = :{p}").Contains($":{p} ", StringComparison.Ordinal))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"nc -l {p} in {host} exited: {await process.StandardError.ReadToEndAsync()}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"nc -l {p} in {host} is not listening after {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s.");
            await Task.Delay(20);
        }
        return process;
    }

    /// <summary>
    /// Starts <c>tshark</c> in <paramref name="host"/> on <paramref name="iface"/> with capture
    /// filter <paramref name="filter"/> and further tshark <paramref name="arguments"/> (e.g.
    /// <c>-c 1 -T fields -e tcp.flags</c> or <c>-w FILE</c>), and returns once it really captures
    /// (its "Capture started" message: "Capturing on" comes before dumpcap is ready).
    /// </summary>
    public async Task<Process> StartCaptureAsync(string host, string iface, string filter, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        ExternalCommand.Require("tshark", "tshark", "Capturing in the test network");
        var process = StartProcess(host, "tshark", ["-n", "-l", "-i", iface, "-f", filter, .. arguments]);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var seen = new StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await process.StandardError.ReadLineAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"tshark in {host} did not start capturing: {seen}");
            }
            if (line is null)
                throw new InvalidOperationException($"tshark in {host} exited before capturing: {seen}");
            seen.AppendLine(line);
            if (line.Contains("Capture started", StringComparison.Ordinal))
                return process;
        }
    }

    /// <summary>Runs <paramref name="create"/> inside <paramref name="host"/>'s namespace (sockets made there belong to it).</summary>
    public T Run<T>(string host, Func<T> create) => NetworkNamespace.Run(this[host].Namespace, create);

    /// <summary>A human-readable table of hosts, interfaces and addresses.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"test network {Prefix}: {string.Join(" -- ", _hosts.Select(h => h.Name))}\n");
        foreach (var h in _hosts)
            foreach (var i in h.Interfaces)
                sb.Append(CultureInfo.InvariantCulture,
                    $"  {h.Name,-5} {h.Namespace,-22} {i.Name,-5} {i.Address}/{i.PrefixLength,-3} {i.Address6}/{i.PrefixLength6}  (to {i.Peer})\n");
        var o = Options;
        var imp = new List<string>();
        if (o.LossToServer > 0) imp.Add($"loss {o.LossToServer.ToString(CultureInfo.InvariantCulture)}% toward srv");
        if (o.LossToClient > 0) imp.Add($"loss {o.LossToClient.ToString(CultureInfo.InvariantCulture)}% toward cli");
        if (o.StripOptions.Count > 0) imp.Add($"strip option {string.Join(",", o.StripOptions)}");
        if (o.ClampMss is { } mss) imp.Add($"clamp MSS to {mss}");
        if (o.Nat) imp.Add("NAT toward srv");
        if (o.Mtu is { } mtu) imp.Add($"MTU {mtu}");
        if (imp.Count > 0)
            sb.Append(CultureInfo.InvariantCulture, $"  impairments on {ImpairedRouter.Name}: {string.Join("; ", imp)}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Leaves the network up when this process ends (for <c>testbed up</c>): from now on only
    /// <see cref="Destroy"/> removes it. Processes started with <see cref="StartProcess"/> keep running.
    /// </summary>
    public void Detach()
    {
        lock (_processes)
            _processes.Clear();
        _cleanup.Forget();
    }

    /// <summary>Kills the processes started inside and deletes every namespace (idempotent).</summary>
    public void Dispose()
    {
        _disposed = true;
        _cleanup.Dispose();
    }

    private void TearDown()
    {
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited)
                        p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                p.Dispose();
            }
            _processes.Clear();
        }
        // Under the build lock: a Ctrl-C during Create must not race a namespace being added.
        lock (_buildGate)
        {
            _tornDown = true;
            foreach (var name in HostNames(Options.Routers))
            {
                string ns = $"{Prefix}-{name}";
                if (NetworkNamespace.Exists(ns))
                    DeleteNamespace(ns);
            }
        }
    }

    private void Build(IReadOnlyList<string> names, Action<string>? progress)
    {
        var hosts = Describe(Prefix, names);
        bool offloads = Options.DisableOffloads && ExternalCommand.Find("ethtool") is not null;
        foreach (var h in hosts)
        {
            progress?.Invoke($"creating {h.Namespace}");
            lock (_buildGate)
            {
                if (_tornDown || _disposed)
                    throw new OperationCanceledException("The test network was torn down while it was being built.");
                Ip("netns", "add", h.Namespace);
            }
            _hosts.Add(h);
            Ip("-n", h.Namespace, "link", "set", "lo", "up");
            // Forwarding on routers; on every host no DAD delay and no router solicitations.
            var sysctl = new List<string> { "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0" };
            if (h.IsRouter)
                sysctl.AddRange(["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
            ExternalCommand.RunChecked("sysctl", sysctl, h.Namespace);
        }

        for (int link = 0; link < hosts.Count - 1; link++)
        {
            TestHost left = hosts[link], right = hosts[link + 1];
            var l = left.Interfaces.First(i => i.Peer == right.Name);
            var r = right.Interfaces.First(i => i.Peer == left.Name);
            progress?.Invoke($"linking {left.Name}:{l.Name} -- {right.Name}:{r.Name}");
            Ip("-n", left.Namespace, "link", "add", l.Name, "type", "veth", "peer", "name", r.Name, "netns", right.Namespace);
            foreach (var (h, i) in new[] { (left, l), (right, r) })
            {
                if (Options.Mtu is { } mtu)
                    Ip("-n", h.Namespace, "link", "set", "dev", i.Name, "mtu", mtu.ToString(CultureInfo.InvariantCulture));
                Ip("-n", h.Namespace, "addr", "add", $"{i.Address}/{i.PrefixLength}", "dev", i.Name);
                Ip("-n", h.Namespace, "addr", "add", $"{i.Address6}/{i.PrefixLength6}", "dev", i.Name, "nodad");
                if (offloads)
                    ExternalCommand.Run("ethtool", ["-K", i.Name, "tx", "off", "tso", "off", "gso", "off", "gro", "off"], h.Namespace);
                Ip("-n", h.Namespace, "link", "set", "dev", i.Name, "up");
            }
        }

        progress?.Invoke("adding routes");
        int links = hosts.Count - 1;
        for (int k = 0; k < hosts.Count; k++)
        {
            var h = hosts[k];
            for (int link = 0; link < links; link++)
            {
                // Links k-1 and k touch host k; every other link is reached through the neighbour on its side.
                if (link == k - 1 || link == k)
                    continue;
                bool towardServer = link > k;
                int via = towardServer ? k : k - 1; // the link to that neighbour
                string viaV4 = LinkAddress(via, towardServer ? 2 : 1).ToString(), viaV6 = LinkAddress6(via, towardServer ? 2 : 1).ToString();
                Ip("-n", h.Namespace, "route", "add", $"10.77.{link}.0/{Ipv4PrefixLength}", "via", viaV4);
                Ip("-n", h.Namespace, "-6", "route", "add", $"fd77:0:0:{link:x}::/{Ipv6PrefixLength}", "via", viaV6);
            }
        }

        if (Options.HasImpairments)
        {
            progress?.Invoke($"adding impairments on {ImpairedRouter.Name}");
            AddImpairments(ImpairedRouter);
        }
    }

    private void AddImpairments(TestHost router)
    {
        var o = Options;
        foreach (string fw in new[] { "iptables", "ip6tables" })
        {
            void Rule(params string[] args) => ExternalCommand.RunChecked(fw, ["-w", .. args], router.Namespace);

            foreach (var (loss, inIf) in new[] { (o.LossToServer, "eth0"), (o.LossToClient, "eth1") })
            {
                if (loss <= 0)
                    continue;
                Rule("-A", "FORWARD", "-i", inIf, "-m", "statistic", "--mode", "random",
                    "--probability", (loss / 100).ToString("0.#####", CultureInfo.InvariantCulture), "-j", "DROP");
            }
            if (o.StripOptions.Count > 0)
                Rule("-t", "mangle", "-A", "FORWARD", "-p", "tcp", "-j", "TCPOPTSTRIP", "--strip-options",
                    string.Join(",", o.StripOptions.Distinct().Select(k => k.ToString(CultureInfo.InvariantCulture))));
            if (o.ClampMss is { } mss)
                Rule("-t", "mangle", "-A", "FORWARD", "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS",
                    "--set-mss", mss.ToString(CultureInfo.InvariantCulture));
            if (o.Nat)
                Rule("-t", "nat", "-A", "POSTROUTING", "-o", "eth1", "-j", "MASQUERADE");
        }
    }

    private static List<TestHost> Describe(string prefix, IReadOnlyList<string> names)
    {
        var hosts = new List<TestHost>();
        int last = names.Count - 1;
        for (int k = 0; k <= last; k++)
        {
            var interfaces = new List<TestInterface>();
            if (k > 0) // the link toward cli, where this host is the end nearer srv
                interfaces.Add(new TestInterface("eth0", LinkAddress(k - 1, 2), Ipv4PrefixLength, LinkAddress6(k - 1, 2), Ipv6PrefixLength, names[k - 1]));
            if (k < last) // the link toward srv; cli's only interface is eth0 as well
                interfaces.Add(new TestInterface(k == 0 ? "eth0" : "eth1", LinkAddress(k, 1), Ipv4PrefixLength, LinkAddress6(k, 1), Ipv6PrefixLength, names[k + 1]));
            hosts.Add(new TestHost(names[k], $"{prefix}-{names[k]}", interfaces, k > 0 && k < last));
        }
        return hosts;
    }

    private static IReadOnlyList<string> HostNames(int routers) =>
        ["cli", .. routers == 1 ? ["rtr"] : Enumerable.Range(1, routers).Select(i => $"rtr{i}"), "srv"];

    private static IPAddress LinkAddress(int link, int end) => new([10, 77, (byte)link, (byte)end]);

    private static IPAddress LinkAddress6(int link, int end) => IPAddress.Parse($"fd77:0:0:{link:x}::{end}");

    private static void Ip(params string[] args) => ExternalCommand.RunChecked("ip", args);

    private static IEnumerable<string> ListNamespaces()
    {
        try
        {
            return Directory.GetFiles(NetworkNamespace.Directory).Select(Path.GetFileName).OfType<string>().ToArray();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static void DeleteNamespace(string ns)
    {
        // Processes inside keep the namespace (and its veths) alive after the name is gone: kill them first.
        var pids = ExternalCommand.Run("ip", ["netns", "pids", ns]);
        foreach (var line in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill();
                p.WaitForExit(2000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
        var result = ExternalCommand.Run("ip", ["netns", "del", ns]);
        if (!result.Succeeded && NetworkNamespace.Exists(ns))
            throw new InvalidOperationException($"Cannot delete network namespace {ns}: {result.StandardError.Trim()}");
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.]{0,19}$")]
    private static partial Regex ValidName();

    [GeneratedRegex(@"^tx[a-z]*([0-9]+)x[0-9]+(-|$)")]
    private static partial Regex StalePattern();

    [GeneratedRegex(@"^(cli|srv|rtr[0-9]*)$")]
    private static partial Regex HostPart();
}
