using System.Net;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Probe;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure probe HOST PORT</c>: the legacy middlebox tests against a stateless responder
/// (<c>tcpexposure respond</c>), a table of result codes at the end, JSON on request.
/// </summary>
[Verb("probe", HelpText = "Run the middlebox tests (legacy tcpexposure.py) against a responder at HOST PORT.")]
public sealed class ProbeCommand : ICommand
{
    /// <summary>HOST: the IPv4 or IPv6 address of the responder (<c>tcpexposure respond</c>) to probe.</summary>
    [Value(0, MetaName = "HOST", Required = true, HelpText = "The responder's address.")]
    public string Host { get; set; } = "";

    /// <summary>PORT: the TCP port the responder answers on.</summary>
    [Value(1, MetaName = "PORT", Required = true, HelpText = "The responder's port.")]
    public int Port { get; set; }

    /// <summary>--tests: the legacy middlebox tests to run, by name (Syn, SynOpt, Split, SeqHole, ...); empty runs them all.</summary>
    [Option("tests", Separator = ',', HelpText = "Tests to run (default all): Syn,UnexpAwnd,SynOpt,SynOpt2,Data,IndAck,ChangeSeq,ChangeAwnd,ChangeIncomingSeq,DataKnownOpt,DataOpt,Split,Coalesce,...,PseudoRtx,PseudoRtxL,PseudoRtxS,SeqHole,AckHole.")]
    public IEnumerable<string> Tests { get; set; } = [];

    /// <summary>--via: how segments go out and answers come back: raw (raw IP sockets and AF_PACKET capture, the default) or pcap (libpcap).</summary>
    [Option("via", Default = "raw", HelpText = "raw (raw IP sockets + AF_PACKET capture) or pcap (libpcap).")]
    public string Via { get; set; } = "raw";

    /// <summary>--netns: the network namespace to probe from; null runs in the current one.</summary>
    [Option("netns", HelpText = "Run inside this network namespace.")]
    public string? Netns { get; set; }

    /// <summary>--json: a file to write the report to as JSON; "-" prints the JSON on stdout instead of the table.</summary>
    [Option("json", HelpText = "Also write the report as JSON to this file ('-' for stdout instead of the table).")]
    public string? JsonFile { get; set; }

    /// <summary>--pcap: a pcap file to record every packet sent and every answer received.</summary>
    [Option("pcap", HelpText = "Write every packet sent and answer received to this pcap file.")]
    public string? PcapFile { get; set; }

    /// <summary>--timeout: seconds to wait for the answers of one exchange (above 0, at most 60); default 0.4.</summary>
    [Option("timeout", Default = 0.4, HelpText = "Seconds to wait for the answers of one exchange.")]
    public double Timeout { get; set; } = 0.4;

    /// <summary>The example invocations shown by <c>tcpexposure probe --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Probe the responder on the test network's server", new ProbeCommand { Host = "10.77.1.2", Port = 8080, Netns = "txbed-cli" }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        if (!AddressArgument.TryParse(Host, out var address))
            throw new UsageException($"HOST '{Host}' is not an IPv4 or IPv6 address.");
        if (Port is < 1 or > 65535)
            throw new UsageException($"PORT must be from 1 to 65535, not {Port}.");
        if (!TransportFactory.TryParse(Via, out var kind))
            throw new UsageException($"--via must be raw or pcap, not '{Via}'.");
        if (Netns is not null && !NetworkNamespace.IsValidName(Netns))
            throw new UsageException($"--netns '{Netns}' is not a valid network namespace name.");
        if (double.IsNaN(Timeout) || Timeout <= 0 || Timeout > 60)
            throw new UsageException("--timeout must be more than 0 and at most 60 seconds.");
        var tests = Tests.Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        foreach (var t in tests)
            if (!ProbeTests.All.Contains(t))
                throw new UsageException($"--tests: unknown test '{t}'. Tests: {string.Join(",", ProbeTests.All)}.");
        return RunAsync(new IPEndPoint(address, Port), kind, tests).GetAwaiter().GetResult();
    }

    private async Task<int> RunAsync(IPEndPoint target, TransportKind kind, List<string> tests)
    {
        using var capture = PcapFile is null ? null : File.Create(PcapFile);
        await using var transport = TransportFactory.Open(kind, Netns, target.Address,
            filter: kind == TransportKind.Pcap ? $"tcp and host {target.Address}" : null);
        using var stop = new CancellationTokenSource();
        using var onSignal = CleanupRegistry.Register(() =>
        {
            try { stop.Cancel(); } catch (ObjectDisposedException) { }
        }, "stop the probe");
        var options = new ProbeOptions
        {
            Target = target,
            Tests = tests.Count > 0 ? tests : null,
            Netns = Netns,
            Capture = capture,
            Timeout = TimeSpan.FromSeconds(Timeout),
            Progress = ProbeProgress.Create("probe: "),
        };
        var report = await ProbeSuite.RunAsync(transport, options, stop.Token).ConfigureAwait(false);
        ProbeProgress.Finish();
        if (JsonFile == "-")
        {
            Console.Out.WriteLine(report.ToJson());
            return 0;
        }
        Console.Out.Write(report.ToTable());
        if (JsonFile is not null)
            await File.WriteAllTextAsync(JsonFile, report.ToJson()).ConfigureAwait(false);
        return 0;
    }
}
