using System.Diagnostics;
using System.Globalization;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;
using TcpExposure.Stateful;
using TcpExposure.Tool.Stateful;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure serve --port P --file F</c>: the user-space TCP as a server (seed 000). Every
/// connection gets the file as its stream, then a graceful close; the kernel's RSTs for the port
/// are dropped by an RST guard; the totals print on exit, Ctrl-C or SIGTERM.
/// </summary>
[Verb("serve", HelpText = "Serve a file over the user-space TCP: every connection gets the file, then FIN. Counters on exit.")]
public sealed class ServeCommand : ICommand
{
    private const int Chunk = 64 * 1024;

    /// <summary>--port: the TCP port to listen on (1-65535); required.</summary>
    [Option("port", Required = true, HelpText = "TCP port to listen on.")]
    public int Port { get; set; }

    /// <summary>--file: the file every connection gets as its stream before the FIN (a recorded HTTP response works with wget, curl and browsers); required.</summary>
    [Option("file", Required = true, HelpText = "The stream every connection gets (a recorded HTTP response works with wget, curl and browsers).")]
    public string File { get; set; } = "";

    /// <summary>--addr: the local address the user-space TCP owns; null takes the first non-loopback address (IPv4 unless --peer is IPv6).</summary>
    [Option("addr", HelpText = "Local address to own (default: the first non-loopback IPv4 address).")]
    public string? Addr { get; set; }

    /// <summary>--via: how segments reach the wire: raw (raw IP and packet sockets, the default) or pcap (libpcap, needs --peer).</summary>
    [Option("via", Default = StackTransport.Raw, HelpText = "Transport: raw (raw + packet sockets) or pcap (libpcap; needs --peer).")]
    public StackTransport Via { get; set; } = StackTransport.Raw;

    /// <summary>--peer: with --via pcap, an address on the clients' side; frames go to the next hop toward it.</summary>
    [Option("peer", HelpText = "With --via pcap: an address on the clients' side; frames go to the next hop toward it.")]
    public string? Peer { get; set; }

    /// <summary>--netns: the network namespace to serve in; null uses the current one.</summary>
    [Option("netns", HelpText = "Run in this network namespace (default: the current one).")]
    public string? Netns { get; set; }

    /// <summary>--count: exit after serving this many connections; null serves until Ctrl-C or SIGTERM.</summary>
    [Option("count", HelpText = "Exit after serving this many connections (default: until Ctrl-C or SIGTERM).")]
    public int? Count { get; set; }

    /// <summary>--cc: the congestion control of every connection: Bbr (the default), NewReno or Cubic.</summary>
    [Option("cc", Default = CongestionAlgorithm.Bbr, HelpText = "Congestion control: Bbr (default: BBR v1, model-based, random loss does not shrink its window; "
        + "what the kernel uses when net.ipv4.tcp_congestion_control = bbr, as on the test machine), NewReno or Cubic (loss-based).")]
    public CongestionAlgorithm CongestionControl { get; set; } = CongestionAlgorithm.Bbr;

    /// <summary>--min-rto: the lower bound of the retransmission timeout in milliseconds; default 200 as in Linux (RFC 6298 says 1000).</summary>
    [Option("min-rto", Default = 200, HelpText = "Lower bound of the retransmission timeout in ms (RFC 6298 says 1000; Linux uses 200).")]
    public int MinRtoMs { get; set; } = 200;

    /// <summary>--pacing: with BBR and a SACK peer (the RACK send loop), pace transmissions at the model's pacing rate in one-quantum bursts.</summary>
    [Option("pacing", HelpText = "With --cc Bbr and a SACK peer (RACK): pace transmissions at BBR's pacing rate in one-quantum bursts (default: the window alone bounds the flight).")]
    public bool Pacing { get; set; }

    /// <summary>--no-offload: with --via raw, send every segment as its own packet with its own checksum instead of TCP super-packets the kernel segments (GSO).</summary>
    [Option("no-offload", HelpText = "With --via raw: send every segment as its own packet with its own checksum, instead of TCP super-packets the kernel segments (GSO through an AF_PACKET socket).")]
    public bool NoOffload { get; set; }

    /// <summary>--user-timeout: seconds without any acknowledgment before a connection is given up (RFC 9293 user timeout); default 120.</summary>
    [Option("user-timeout", Default = 120, HelpText = "Seconds without any acknowledgment before a connection is given up (RFC 9293 user timeout).")]
    public int UserTimeoutSeconds { get; set; } = 120;

    /// <summary>-v/--verbose: per-connection progress and counters on stderr.</summary>
    [Option('v', "verbose", HelpText = "Progress per connection on stderr.")]
    public bool Verbose { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure serve --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Serve a recorded HTTP response on port 8080 in namespace txbed-srv", new ServeCommand { Port = 8080, File = "response.http", Netns = "txbed-srv" }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        if (Port is < 1 or > 65535)
            throw new UsageException($"--port must be from 1 to 65535, not {Port}.");
        if (!System.IO.File.Exists(File))
            throw new UsageException($"--file '{File}' does not exist.");
        if (MinRtoMs is < 1 or > 60_000)
            throw new UsageException($"--min-rto must be from 1 to 60000 ms, not {MinRtoMs}.");
        if (UserTimeoutSeconds is < 1 or > 86_400)
            throw new UsageException($"--user-timeout must be from 1 to 86400 s, not {UserTimeoutSeconds}.");
        if (Count is <= 0)
            throw new UsageException($"--count must be positive, not {Count}.");
        byte[] content = System.IO.File.ReadAllBytes(File);
        return RunAsync(content).GetAwaiter().GetResult();
    }

    private async Task<int> RunAsync(byte[] content)
    {
        var host = StackHost.Open(Addr, Netns, Via, Peer, new TcpConfig
        {
            CongestionControl = CongestionControl,
            Pacing = Pacing,
            MinRto = TimeSpan.FromMilliseconds(MinRtoMs),
            UserTimeout = TimeSpan.FromSeconds(UserTimeoutSeconds),
            SendBufferSize = 4 << 20,
            ReceiveBufferSize = 1 << 20,
        }, offload: !NoOffload);
        var started = Stopwatch.StartNew();
        int reported = 0;
        // Runs on Ctrl-C/SIGTERM (the registry) or at the end below, whichever comes first.
        void Report()
        {
            if (Interlocked.Exchange(ref reported, 1) != 0)
                return;
            var s = host.Stack.Statistics;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"connections {s.Connections} retransmissions {s.Retransmissions} bytes-sent {s.BytesSent} bytes-received {s.BytesReceived} segments-sent {s.SegmentsSent} segments-received {s.SegmentsReceived} segments-merged {host.Stack.SegmentsMerged} seconds {started.Elapsed.TotalSeconds:F3}"));
            Console.Out.Flush();
        }
        using var farewell = CleanupRegistry.Register(Report, "serve counters");
        var clients = new List<Task>();
        try
        {
            var listener = host.Listen(Port);
            Console.Out.WriteLine($"serving {content.Length} bytes on {host.Address}:{Port}{(Netns is null ? "" : $" in {Netns}")} via {Via.ToString().ToLowerInvariant()}");
            Console.Out.Flush();
            int served = 0;
            while (Count is null || served < Count)
            {
                TcpSocket socket;
                try
                {
                    socket = await listener.AcceptAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException or System.Threading.Channels.ChannelClosedException)
                {
                    break;
                }
                served++;
                clients.Add(ServeOneAsync(socket, content));
            }
            await Task.WhenAll(clients).ConfigureAwait(false);
        }
        finally
        {
            Report();
            await host.DisposeAsync().ConfigureAwait(false);
        }
        return 0;
    }

    private async Task ServeOneAsync(TcpSocket socket, byte[] content)
    {
        var watch = Stopwatch.StartNew();
        long allocated = GC.GetTotalAllocatedBytes(), collections = GC.CollectionCount(0);
        Progress($"{socket.Id}: {socket.RemoteEndPoint} connected");
        try
        {
            for (int offset = 0; offset < content.Length; offset += Chunk)
                await socket.WriteAsync(content.AsMemory(offset, Math.Min(Chunk, content.Length - offset))).ConfigureAwait(false);
            socket.Shutdown();
            // Take what the client sends (an HTTP request) until it closes too. No deadline of our
            // own: a path that stops answering ends in the connection's user timeout.
            var sink = new byte[16 * 1024];
            while (await socket.ReadAsync(sink).ConfigureAwait(false) > 0)
            {
            }
            await socket.FlushAsync().ConfigureAwait(false);
            var c = socket.Counters;
            Progress(string.Create(CultureInfo.InvariantCulture,
                $"{socket.Id}: {socket.RemoteEndPoint} done, {c.BytesSent} bytes in {watch.Elapsed.TotalSeconds:F3} s, {c.Retransmissions} retransmissions ({c.FastRetransmits} fast, {c.Timeouts} timeouts, {c.TailLossProbes} tail loss probes, {c.SpuriousRecoveriesUndone} undone, {c.ZeroWindowProbes} zero-window probes; largest flight {c.MaxFlight} bytes, cwnd at the end {c.CongestionWindow} ({c.CongestionControl}); the process allocated {GC.GetTotalAllocatedBytes() - allocated} bytes meanwhile, {GC.CollectionCount(0) - collections} gen0 collections)"));
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            Console.Error.WriteLine($"serve: {socket.Id}: {socket.RemoteEndPoint}: {e.Message}");
            socket.Abort();
        }
    }

    private void Progress(string message)
    {
        if (Verbose)
            Console.Error.WriteLine($"serve: {message}");
    }
}
