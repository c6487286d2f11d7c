using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;
using TcpExposure.Responder.Middlebox;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure middlebox --netns RTR --left IF --right IF --behaviour SPEC</c>: forwards TCP
/// between a router's two interfaces in user space, applying the behaviours, until Ctrl-C,
/// SIGTERM or --duration; prints the counters at the end.
/// </summary>
[Verb("middlebox", HelpText = "Emulate a TCP middlebox on a router: forward TCP between two interfaces applying behaviours (strip/zero/modify options, seq offset, split, coalesce, proxy ACK, window, drop beyond hole).")]
public sealed class MiddleboxCommand : ICommand
{
    /// <summary>--netns: the router's network namespace; null runs in the current one.</summary>
    [Option("netns", HelpText = "The router's network namespace (default: the current one).")]
    public string? Netns { get; set; }

    /// <summary>--left: the router's interface toward the client; default eth0.</summary>
    [Option("left", Default = "eth0", HelpText = "The interface toward the client.")]
    public string Left { get; set; } = "eth0";

    /// <summary>--right: the router's interface toward the server; default eth1.</summary>
    [Option("right", Default = "eth1", HelpText = "The interface toward the server.")]
    public string Right { get; set; } = "eth1";

    /// <summary>-b/--behaviour: the comma-separated behaviours applied to forwarded TCP (strip/zero/modify options, seq offset, split, coalesce, proxy ACK, window, drop beyond a hole); required.</summary>
    [Option('b', "behaviour", Required = true, HelpText = "Comma-separated behaviours: " + MiddleboxSpec.Help + ".")]
    public string Behaviour { get; set; } = "";

    /// <summary>--duration: seconds to forward before stopping and printing the counters; null waits for Ctrl-C or SIGTERM.</summary>
    [Option("duration", HelpText = "Stop after this many seconds (default: wait for Ctrl-C or SIGTERM).")]
    public double? Duration { get; set; }

    /// <summary>-v/--verbose: print one line per segment sent.</summary>
    [Option('v', "verbose", HelpText = "One line per segment sent.")]
    public bool Verbose { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure middlebox --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Strip MP_CAPABLE from SYNs and shift sequence numbers on the test network's router",
            new MiddleboxCommand { Netns = "txbed-rtr", Behaviour = "strip:30:syn,seq-offset:1000" }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        IReadOnlyList<IMiddleboxBehaviour> behaviours;
        try
        {
            behaviours = MiddleboxSpec.Parse(Behaviour);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        if (Duration is { } d && (double.IsNaN(d) || d <= 0 || d > int.MaxValue / 1000.0))
            throw new UsageException($"--duration must be a positive number of seconds, not {d}.");
        if (Netns is not null && !NetworkNamespace.IsValidName(Netns))
            throw new UsageException($"--netns '{Netns}' is not a valid network namespace name.");
        if (Netns is not null && !NetworkNamespace.Exists(Netns))
            throw new InvalidOperationException($"There is no network namespace '{Netns}'.");
        Privileges.Require("The middlebox (iptables rules, raw and packet sockets)", Capability.NetAdmin, Capability.NetRaw);
        if (Netns is not null)
            Privileges.Require("Entering the router's network namespace", Capability.SysAdmin);

        var forwarder = MiddleboxForwarder.Start(new()
        {
            Namespace = Netns,
            Left = Left,
            Right = Right,
            Behaviours = behaviours,
            Log = Verbose ? line => Console.Out.WriteLine(line) : null,
        });
        // Registered after the forwarder, so on a signal it runs first (newest first): counters, then clean-up.
        using var farewell = CleanupRegistry.Register(() =>
        {
            forwarder.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Console.Error.WriteLine($"middlebox: {forwarder.Counters}");
            foreach (var b in behaviours)
                Console.Error.WriteLine($"middlebox: {b.Spec}: {Describe(b)}");
        }, "middlebox counters");
        Console.Out.WriteLine($"middlebox {forwarder.Pipeline} between {Left} and {Right}{(Netns is null ? "" : $" in {Netns}")}");
        Console.Out.Flush();
        using var never = new ManualResetEventSlim();
        never.Wait(Duration is { } seconds ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan);
        return 0;
    }

    internal static string Describe(IMiddleboxBehaviour b) => b switch
    {
        OptionBehaviour o => $"{o.Changed} segment(s) changed",
        SplitBehaviour s => $"{s.Split} segment(s) split",
        CoalesceBehaviour c => $"{c.Merged} segment(s) merged into an earlier one",
        ProxyAckBehaviour p => $"{p.Acks} ACK(s) sent for the server",
        DropBeyondHoleBehaviour h => $"{h.Dropped} segment(s) dropped",
        _ => "applied",
    };
}
