using System.Net;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure rst-guard --local ADDR:PORT</c>: holds the RST guard for an address and port
/// while some other program (a scapy script, a packetdrill run) plays TCP there, until Ctrl-C,
/// SIGTERM or --duration. The rule goes away with the process (the clean-up registry), and a
/// kill -9 leftover is removed by the next guard.
/// </summary>
[Verb("rst-guard", HelpText = "Drop the kernel's RSTs from ADDR:PORT (an iptables rule) until Ctrl-C, SIGTERM or --duration.")]
public sealed class RstGuardCommand : ICommand
{
    /// <summary>--local: the ADDRESS:PORT whose kernel RSTs are dropped ([ADDRESS]:PORT for IPv6, 0.0.0.0:PORT for every address); required.</summary>
    [Option("local", Required = true, HelpText = "The local address and port our code plays TCP on: 10.0.0.1:8080, [fd00::1]:8080, 0.0.0.0:8080 (every address).")]
    public string Local { get; set; } = "";

    /// <summary>--netns: the network namespace the address lives in; null uses the current one.</summary>
    [Option("netns", HelpText = "The network namespace the address lives in (default: the current one).")]
    public string? Netns { get; set; }

    /// <summary>--duration: seconds to hold the rule before removing it and exiting; null waits for Ctrl-C or SIGTERM.</summary>
    [Option("duration", HelpText = "Remove the rule and exit after this many seconds (default: wait for Ctrl-C or SIGTERM).")]
    public double? Duration { get; set; }

    /// <summary>-q/--quiet: no progress lines on stderr.</summary>
    [Option('q', "quiet", HelpText = "No progress on stderr.")]
    public bool Quiet { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure rst-guard --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Keep the kernel from resetting a scapy handshake on port 8080", new RstGuardCommand { Local = "10.77.1.2:8080", Netns = "txbed-srv" }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        var endpoint = EndpointArgument.Parse(Local, "--local");
        if (endpoint.Port == 0)
            throw new UsageException($"--local '{Local}': the port must be from 1 to 65535.");
        if (Duration is { } d && (double.IsNaN(d) || d <= 0 || d > int.MaxValue / 1000.0))
            throw new UsageException($"--duration must be a positive number of seconds, not {d}.");
        if (Netns is not null && !NetworkNamespace.IsValidName(Netns))
            throw new UsageException($"--netns '{Netns}' is not a valid network namespace name.");

        // Registered before the guard, so it runs after the guard's own clean-up (newest first).
        bool installed = false;
        using var farewell = CleanupRegistry.Register(() => { if (installed) Progress("rule removed"); }, "rst-guard message");
        using var guard = RstGuard.Create(endpoint.Address, endpoint.Port, Netns);
        installed = true;
        Console.Out.WriteLine($"guarding {endpoint}{(Netns is null ? "" : $" in {Netns}")}: {guard.Comment}");
        Console.Out.Flush();
        Progress(Duration is null ? "Ctrl-C or SIGTERM removes the rule" : $"removing the rule in {Duration} s");
        // Signals are left to the clean-up registry: it removes the rule, then the runtime ends the process.
        using var never = new ManualResetEventSlim();
        never.Wait(Duration is { } seconds ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan);
        Progress($"dropped {guard.DroppedPackets} RST(s)");
        return 0;
    }

    private void Progress(string message)
    {
        if (!Quiet)
            Console.Error.WriteLine($"rst-guard: {message}");
    }
}
