using System.Diagnostics;
using System.Runtime.InteropServices;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure testbed up|down|exec|status</c>: the test network of namespaces
/// (<c>cli -- rtr -- srv</c>) for trying things by hand; the tests and the demo build the same
/// network through <see cref="TestNetwork"/>.
/// </summary>
[Verb("testbed", HelpText = "Build (up), use (exec), show (status) or remove (down) the test network cli -- rtr -- srv of network namespaces. Link i (0 at cli) is 10.77.i.0/24 and fd77:0:0:i::/64, .1 on the cli side, .2 on the srv side: cli 10.77.0.1, srv 10.77.N.2 (N routers).")]
public sealed class TestbedCommand : ICommand
{
    /// <summary>The name <c>up</c> uses without --name.</summary>
    public const string DefaultName = "txbed";

    /// <summary>ACTION: up (build), down (remove), exec (run a command in a host) or status (show the network).</summary>
    [Value(0, MetaName = "ACTION", Required = true, HelpText = "up | down | exec | status")]
    public string Action { get; set; } = "";

    /// <summary>For exec: the host (cli, rtr, rtr2, ..., srv), then, after --, the command and its arguments.</summary>
    [Value(1, MetaName = "HOST -- COMMAND", HelpText = "For exec: the host (cli, rtr, rtr2, srv) and, after --, the command to run there.")]
    public IEnumerable<string> Rest { get; set; } = [];

    /// <summary>--name: the network name, the prefix of its namespaces (NAME-cli, NAME-rtr, NAME-srv); default <see cref="DefaultName"/>, or a unique one with --foreground.</summary>
    [Option("name", HelpText = "Network name, the namespace prefix (NAME-cli, NAME-rtr, NAME-srv). Default: txbed; with --foreground a unique one.")]
    public string? Name { get; set; }

    /// <summary>--routers: how many routers sit between cli and srv (1-8); default 1.</summary>
    [Option("routers", Default = 1, HelpText = "Routers in the chain between cli and srv (1-8).")]
    public int Routers { get; set; } = 1;

    /// <summary>--mtu: the MTU of every link in bytes (1280-65535); null keeps the veth default of 1500.</summary>
    [Option("mtu", HelpText = "MTU of every link (1280-65535).")]
    public int? Mtu { get; set; }

    /// <summary>--loss: percent of packets the impaired router drops in each direction (iptables statistic); null drops none.</summary>
    [Option("loss", HelpText = "Percent of packets the router drops, in each direction (iptables statistic).")]
    public double? Loss { get; set; }

    /// <summary>--loss-to-srv: percent dropped from cli toward srv; overrides --loss for that direction.</summary>
    [Option("loss-to-srv", HelpText = "Percent dropped from cli toward srv (overrides --loss).")]
    public double? LossToServer { get; set; }

    /// <summary>--loss-to-cli: percent dropped from srv toward cli; overrides --loss for that direction.</summary>
    [Option("loss-to-cli", HelpText = "Percent dropped from srv toward cli (overrides --loss).")]
    public double? LossToClient { get; set; }

    /// <summary>--strip-option: TCP option kinds the impaired router removes (iptables TCPOPTSTRIP), e.g. 8 for timestamps.</summary>
    [Option("strip-option", Separator = ',', HelpText = "TCP option kinds the router removes (TCPOPTSTRIP), e.g. 8 or 4,8.")]
    public IEnumerable<int> StripOptions { get; set; } = [];

    /// <summary>--clamp-mss: the MSS, in bytes, the impaired router clamps SYNs to (iptables TCPMSS); null leaves the MSS alone.</summary>
    [Option("clamp-mss", HelpText = "Clamp the MSS of SYNs crossing the router to N (TCPMSS).")]
    public int? ClampMss { get; set; }

    /// <summary>--nat: the impaired router masquerades (source-NATs) what it forwards toward srv.</summary>
    [Option("nat", HelpText = "The router masquerades what it forwards toward srv.")]
    public bool Nat { get; set; }

    /// <summary>--impaired-router: which router carries the loss, option stripping, MSS clamp and NAT (1 = next to cli); default 1.</summary>
    [Option("impaired-router", Default = 1, HelpText = "Which router (1 = next to cli) carries the impairments.")]
    public int ImpairedRouter { get; set; } = 1;

    /// <summary>--foreground: with up, stay in the foreground and tear the network down on Ctrl-C or SIGTERM.</summary>
    [Option("foreground", HelpText = "up: stay in the foreground and tear the network down on Ctrl-C or SIGTERM.")]
    public bool Foreground { get; set; }

    /// <summary>-q/--quiet: no progress lines on stderr.</summary>
    [Option('q', "quiet", HelpText = "No progress on stderr.")]
    public bool Quiet { get; set; }

    private static readonly UnParserSettings Skip = new() { SkipDefault = true };

    /// <summary>The example invocations shown by <c>tcpexposure testbed --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Build cli -- rtr -- srv with 5% loss and timestamps stripped", Skip, new TestbedCommand { Action = "up", Loss = 5, StripOptions = [8] }),
        new("Run a command in a host", Skip, new TestbedCommand { Action = "exec", Rest = ["srv", "--", "nc", "-l", "8080"] }),
        new("Remove it", Skip, new TestbedCommand { Action = "down" }),
    ];

    /// <inheritdoc/>
    public int Execute() => Action switch
    {
        "up" => Up(),
        "down" => Down(),
        "exec" => Exec(),
        "status" => Status(),
        _ => throw new UsageException($"Unknown testbed action '{Action}': use up, down, exec or status."),
    };

    private TestNetworkOptions BuildOptions(string? name)
    {
        var options = new TestNetworkOptions
        {
            Name = name,
            Routers = Routers,
            Mtu = Mtu,
            LossToServer = LossToServer ?? Loss ?? 0,
            LossToClient = LossToClient ?? Loss ?? 0,
            StripOptions = StripOptions.ToArray(),
            ClampMss = ClampMss,
            Nat = Nat,
            ImpairedRouter = ImpairedRouter,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        return options;
    }

    private void Progress(string message)
    {
        if (!Quiet)
            Console.Error.WriteLine($"testbed: {message}");
    }

    private int Up()
    {
        if (Rest.Any())
            throw new UsageException($"testbed up takes no arguments, got '{string.Join(' ', Rest)}'.");
        string? name = Name ?? (Foreground ? null : DefaultName);
        var options = BuildOptions(name);
        if (name is not null && TestbedState.Load(name) is not null)
        {
            if (NetworkNamespace.Exists($"{name}-cli"))
                throw new InvalidOperationException($"Test network '{name}' is already up; remove it first with 'tcpexposure testbed down{NameArgument(name)}'.");
            TestbedState.Delete(name); // a reboot or a manual 'ip netns del' removed the network
        }

        using var network = TestNetwork.Create(options, Progress);
        if (!Foreground)
        {
            new TestbedState(network.Prefix, network.Options, Environment.ProcessId, DateTimeOffset.UtcNow).Save();
            network.Detach();
            Console.Out.Write(network.Describe());
            Progress($"up; use 'tcpexposure testbed exec HOST{NameArgument(network.Prefix)} -- COMMAND' and remove it with 'tcpexposure testbed down{NameArgument(network.Prefix)}'");
            return 0;
        }

        using var stop = new ManualResetEventSlim();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we end the process ourselves, after the tear-down
            stop.Set();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Console.Out.Write(network.Describe());
        Console.Out.Flush();
        Progress($"up in the foreground (pid {Environment.ProcessId}); Ctrl-C or SIGTERM tears it down");
        stop.Wait();
        Progress("tearing down");
        network.Dispose();
        Progress("down");
        return 0;
    }

    private int Down()
    {
        if (Rest.Any())
            throw new UsageException($"testbed down takes no arguments, got '{string.Join(' ', Rest)}'.");
        string name = Name ?? DefaultName;
        if (!TestNetwork.IsValidName(name))
            throw new UsageException($"Test network name '{name}' is not valid.");
        Privileges.Require("Removing the test network", Capability.SysAdmin);
        int removed = TestNetwork.Destroy(name);
        bool hadState = TestbedState.Delete(name);
        if (removed == 0 && !hadState)
        {
            Progress($"no test network '{name}' was up");
            return 0;
        }
        Progress($"removed test network '{name}' ({removed} namespaces)");
        return 0;
    }

    private int Exec()
    {
        var rest = Rest.ToList();
        if (rest.Count < 2)
            throw new UsageException("testbed exec needs a host and a command: testbed exec HOST -- COMMAND [ARGS...].");
        string name = Name ?? DefaultName;
        var state = TestbedState.Load(name) ?? throw new InvalidOperationException(
            $"Test network '{name}' is not up; start it with 'tcpexposure testbed up{NameArgument(name)}'.");
        var network = TestNetwork.Attach(state.Name, state.Options);
        var host = network.Find(rest[0]) ?? throw new UsageException(
            $"Test network '{name}' has no host '{rest[0]}'; it has {string.Join(", ", network.Hosts.Select(h => h.Name))}.");
        if (!NetworkNamespace.Exists(host.Namespace))
            throw new InvalidOperationException($"Namespace {host.Namespace} is gone; run 'tcpexposure testbed down{NameArgument(name)}' and up again.");
        Privileges.Require($"Running a command in {host.Namespace}", Capability.SysAdmin);
        // The child inherits our terminal: interactive commands (a shell, ping) work as usual.
        using var child = Process.Start(ExternalCommand.StartInfo(rest[1], rest.Skip(2), host.Namespace))
            ?? throw new InvalidOperationException($"Cannot start {rest[1]} in {host.Name}.");
        child.WaitForExit();
        return child.ExitCode;
    }

    private int Status()
    {
        var names = Name is not null ? [Name] : TestbedState.All().ToList();
        if (names.Count == 0)
        {
            Progress("no test network is up");
            return 0;
        }
        foreach (var name in names)
        {
            var state = TestbedState.Load(name);
            if (state is null)
            {
                Console.Out.WriteLine($"test network {name}: not up");
                continue;
            }
            var network = TestNetwork.Attach(state.Name, state.Options);
            bool alive = network.Hosts.All(h => NetworkNamespace.Exists(h.Namespace));
            Console.Out.Write(network.Describe());
            if (!alive)
                Console.Out.WriteLine("  (some namespaces are missing: run 'testbed down' and up again)");
        }
        return 0;
    }

    private static string NameArgument(string name) => name == DefaultName ? "" : $" --name {name}";
}
