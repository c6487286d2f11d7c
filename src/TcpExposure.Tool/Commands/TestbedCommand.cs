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

    [Value(0, MetaName = "ACTION", Required = true, HelpText = "up | down | exec | status")]
    public string Action { get; set; } = "";

    [Value(1, MetaName = "HOST -- COMMAND", HelpText = "For exec: the host (cli, rtr, rtr2, srv) and, after --, the command to run there.")]
    public IEnumerable<string> Rest { get; set; } = [];

    [Option("name", HelpText = "Network name, the namespace prefix (NAME-cli, NAME-rtr, NAME-srv). Default: txbed; with --foreground a unique one.")]
    public string? Name { get; set; }

    [Option("routers", Default = 1, HelpText = "Routers in the chain between cli and srv (1-8).")]
    public int Routers { get; set; } = 1;

    [Option("mtu", HelpText = "MTU of every link (1280-65535).")]
    public int? Mtu { get; set; }

    [Option("loss", HelpText = "Percent of packets the router drops, in each direction (iptables statistic).")]
    public double? Loss { get; set; }

    [Option("loss-to-srv", HelpText = "Percent dropped from cli toward srv (overrides --loss).")]
    public double? LossToServer { get; set; }

    [Option("loss-to-cli", HelpText = "Percent dropped from srv toward cli (overrides --loss).")]
    public double? LossToClient { get; set; }

    [Option("strip-option", Separator = ',', HelpText = "TCP option kinds the router removes (TCPOPTSTRIP), e.g. 8 or 4,8.")]
    public IEnumerable<int> StripOptions { get; set; } = [];

    [Option("clamp-mss", HelpText = "Clamp the MSS of SYNs crossing the router to N (TCPMSS).")]
    public int? ClampMss { get; set; }

    [Option("nat", HelpText = "The router masquerades what it forwards toward srv.")]
    public bool Nat { get; set; }

    [Option("impaired-router", Default = 1, HelpText = "Which router (1 = next to cli) carries the impairments.")]
    public int ImpairedRouter { get; set; } = 1;

    [Option("foreground", HelpText = "up: stay in the foreground and tear the network down on Ctrl-C or SIGTERM.")]
    public bool Foreground { get; set; }

    [Option('q', "quiet", HelpText = "No progress on stderr.")]
    public bool Quiet { get; set; }

    private static readonly UnParserSettings Skip = new() { SkipDefault = true };

    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Build cli -- rtr -- srv with 5% loss and timestamps stripped", Skip, new TestbedCommand { Action = "up", Loss = 5, StripOptions = [8] }),
        new("Run a command in a host", Skip, new TestbedCommand { Action = "exec", Rest = ["srv", "--", "nc", "-l", "8080"] }),
        new("Remove it", Skip, new TestbedCommand { Action = "down" }),
    ];

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
