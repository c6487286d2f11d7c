using System.Net;
using System.Net.Sockets;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Transport;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure respond --port P</c>: the stateless responder the probe suite talks to, until
/// Ctrl-C or SIGTERM; prints its counters on the way out.
/// </summary>
[Verb("respond", HelpText = "Run the stateless TCP responder (legacy mptcp-server.py) on a port until Ctrl-C or SIGTERM.")]
public sealed class RespondCommand : ICommand
{
    /// <summary>--port: the TCP port answered (1-65535); required.</summary>
    [Option("port", Required = true, HelpText = "The TCP port to answer (1-65535).")]
    public int Port { get; set; }

    /// <summary>--addr: answer only segments sent to this address; null answers for every local address.</summary>
    [Option("addr", HelpText = "Answer only segments for this address (default: every local address).")]
    public string? Address { get; set; }

    /// <summary>--via: raw (raw IP sockets and AF_PACKET capture, the batched fast path; the default) or pcap (libpcap on one interface, needs --peer).</summary>
    [Option("via", Default = "raw", HelpText = "raw (raw IP sockets + AF_PACKET capture) or pcap (libpcap on one interface).")]
    public string Via { get; set; } = "raw";

    /// <summary>--rx: with --via raw, how packets are read: ring (a PACKET_MMAP TPACKET_V3 ring, no system call per packet; the default) or mmsg (recvmmsg batches).</summary>
    [Option("rx", Default = "ring", HelpText = "With --via raw: how packets are read: ring (a PACKET_MMAP TPACKET_V3 ring, no system call per packet) or mmsg (recvmmsg batches).")]
    public string Rx { get; set; } = "ring";

    /// <summary>--tx: with --via raw and --rx ring, how answers leave: link (AF_PACKET back to the interface and MAC the segment came from, bypassing the qdisc; the default) or raw (raw IP sockets, routed by the kernel).</summary>
    [Option("tx", Default = "link", HelpText = "With --via raw and --rx ring: how answers are sent: link (AF_PACKET, back to the interface and link-layer address the segment came from, qdisc bypassed) or raw (raw IP sockets: the kernel routes them).")]
    public string Tx { get; set; } = "link";

    /// <summary>--netns: the network namespace to answer in (from <c>ip netns add</c> or the testbed); null runs in the current one.</summary>
    [Option("netns", HelpText = "Run inside this network namespace (as made by `ip netns add` or the testbed).")]
    public string? Netns { get; set; }

    /// <summary>--iface: capture and send on this interface only; with --via pcap the default is the route toward --peer.</summary>
    [Option("iface", HelpText = "Capture and send on this interface only (with --via pcap: default the route toward --peer).")]
    public string? Interface { get; set; }

    /// <summary>--peer: with --via pcap, an address the answers go toward; it picks the interface and the next hop's MAC address.</summary>
    [Option("peer", HelpText = "With --via pcap: an address the answers go toward; picks the interface and the next hop's MAC.")]
    public string? Peer { get; set; }

    /// <summary>--duration: seconds to answer before printing the counters and exiting; null runs until Ctrl-C or SIGTERM.</summary>
    [Option("duration", HelpText = "Stop after this many seconds (default: run until Ctrl-C or SIGTERM).")]
    public double? Duration { get; set; }

    /// <summary>--no-rst-guard: skip the iptables rule that drops the kernel's RSTs from the port, so the kernel may reset the probes' connections.</summary>
    [Option("no-rst-guard", HelpText = "Do not add the iptables rule that keeps the kernel from resetting connections to the port.")]
    public bool NoRstGuard { get; set; }

    /// <summary>--no-ingress-drop: let the kernel's TCP see segments to the port too, instead of the raw-table rule that drops them once our capture has them.</summary>
    [Option("no-ingress-drop", HelpText = "Let the kernel's own TCP see segments to the port too (by default an iptables raw-table rule drops them after our capture has seen them, so the kernel spends nothing on them).")]
    public bool NoIngressDrop { get; set; }

    /// <summary>-v/--verbose: print one summary line per answer sent.</summary>
    [Option('v', "verbose", HelpText = "Print one summary line per answer.")]
    public bool Verbose { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure respond --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Answer port 8080 on the test network's server", new RespondCommand { Port = 8080, Netns = "txbed-srv", Verbose = true }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        if (Port is < 1 or > 65535)
            throw new UsageException($"--port must be from 1 to 65535, not {Port}.");
        if (Via is not ("raw" or "pcap"))
            throw new UsageException($"--via must be raw or pcap, not '{Via}'.");
        if (Rx is not ("ring" or "mmsg"))
            throw new UsageException($"--rx must be ring or mmsg, not '{Rx}'.");
        if (Tx is not ("link" or "raw"))
            throw new UsageException($"--tx must be link or raw, not '{Tx}'.");
        IPAddress? address = null;
        if (Address is not null && !AddressArgument.TryParse(Address, out address))
            throw new UsageException($"--addr '{Address}' is not an IPv4 or IPv6 address.");
        IPAddress? peer = null;
        if (Peer is not null && !AddressArgument.TryParse(Peer, out peer))
            throw new UsageException($"--peer '{Peer}' is not an IPv4 or IPv6 address.");
        if (Via == "pcap" && peer is null)
            throw new UsageException("--via pcap needs --peer ADDRESS (an address the answers go toward) to pick the interface and next hop.");
        if (Netns is not null && !NetworkNamespace.IsValidName(Netns))
            throw new UsageException($"--netns '{Netns}' is not a valid network namespace name.");
        if (Duration is { } d && (double.IsNaN(d) || d <= 0 || d > int.MaxValue / 1000.0))
            throw new UsageException($"--duration must be a positive number of seconds, not {d}.");
        return RunAsync(address, peer).GetAwaiter().GetResult();
    }

    private async Task<int> RunAsync(IPAddress? address, IPAddress? peer)
    {
        var config = ResponderConfig.For((ushort)Port, address);
        // --via raw: the batched fast path (RX ring or recvmmsg, sendmmsg, on its own sockets); pcap: the transport loop.
        TransportFactory.TryParse(Via, out var kind);
        using var batched = kind == TransportKind.Raw ? BatchedRawSockets.Open(Netns, Interface, (ushort)Port, ring: Rx == "ring", sendOnLink: Tx == "link") : null;
        await using var transport = batched is null ? await OpenAsync(peer).ConfigureAwait(false) : null;
        var local = address ?? (peer?.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
        using var guard = NoRstGuard ? null : RstGuard.Create(local, Port, Netns);
        // Our capture (ring or libpcap) sees segments before netfilter; the kernel need not see them at all.
        using var ingressDrop = NoIngressDrop ? null : IngressDropRule.Create(local, Port, Netns);
        var host = batched is not null
            ? new ResponderHost(batched, config) { OnAnswer = Verbose ? LogAnswer : null }
            : new ResponderHost(transport!, config) { OnAnswer = Verbose ? LogAnswer : null };
        using var stop = new CancellationTokenSource();
        int reported = 0;
        void Report()
        {
            if (Interlocked.Exchange(ref reported, 1) == 0)
            {
                Console.Out.WriteLine($"respond: {host.Counters}");
                Console.Out.Flush();
            }
        }
        // Ctrl-C / SIGTERM: the clean-up registry runs this (newest first, before the guard goes)
        // and the process ends right after, so the counters are printed here, not after the loop;
        // the loop gets a moment to finish its batch first so the counters agree with each other.
        Task? running = null;
        using var onSignal = CleanupRegistry.Register(() =>
        {
            try { stop.Cancel(); } catch (ObjectDisposedException) { }
            try { Volatile.Read(ref running)?.Wait(TimeSpan.FromMilliseconds(500)); } catch (AggregateException) { }
            Report();
        }, "stop the responder");
        if (Duration is { } seconds)
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        string rx = batched is null ? "" : $" ({(batched.UsesRing ? "rx ring" : "recvmmsg")}, {(batched.SendsOnLink ? "answers on the link" : "raw IP sends")})";
        Console.Error.WriteLine($"respond: answering {(address?.ToString() ?? "*")}:{Port} via {Via}{rx}{(Netns is null ? "" : $" in {Netns}")}; Ctrl-C stops");
        try
        {
            Volatile.Write(ref running, host.RunAsync(stop.Token));
            await running.ConfigureAwait(false);
        }
        finally
        {
            Report();
        }
        return 0;
    }

    private static void LogAnswer(ReadOnlySpan<byte> incoming, ReadOnlySpan<byte> answer, ResponderResult result)
    {
        string cmd = result.Command == 0 ? "" : $" [cmd 0x{result.Command:x2}]";
        Console.Out.WriteLine($"{TcpdumpSummary.Format(incoming)} -> {TcpdumpSummary.Format(answer[..result.FirstLength])}{cmd}"
            + (result.SecondLength > 0 ? $" + {TcpdumpSummary.Format(answer.Slice(result.FirstLength, result.SecondLength))}" : ""));
    }

    private Task<IPacketTransport> OpenAsync(IPAddress? peer)
    {
        TransportFactory.TryParse(Via, out var kind);
        return Task.FromResult(TransportFactory.Open(kind, Netns, peer ?? IPAddress.Any, Interface, kind == TransportKind.Pcap ? $"tcp port {Port}" : null));
    }
}
