using System.Globalization;
using System.Net;
using System.Text;
using CommandLine;
using TcpExposure.Stateful;
using TcpExposure.Tool.Stateful;
using TcpListener = TcpExposure.Stateful.TcpListener;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure repl</c>: the seed-003 REPL over the user-space TCP. Reads commands from stdin
/// line by line (so scripts and tests can drive it) and answers on stdout; end of input quits.
/// </summary>
[Verb("repl", HelpText = "Interactive user-space TCP: a PORT, c ADDR PORT, ls, s ID DATA, r ID N, cl ID, sf FILE ADDR PORT, rf FILE PORT, help, q.")]
public sealed class ReplCommand : ICommand
{
    /// <summary>--addr: the local address the user-space TCP owns; null takes the first non-loopback address (IPv4 unless --peer is IPv6).</summary>
    [Option("addr", HelpText = "Local address to own (default: the first non-loopback IPv4 address).")]
    public string? Addr { get; set; }

    /// <summary>--netns: the network namespace to run in; null uses the current one.</summary>
    [Option("netns", HelpText = "Run in this network namespace (default: the current one).")]
    public string? Netns { get; set; }

    /// <summary>--via: how segments reach the wire: raw (raw IP and packet sockets, the default) or pcap (libpcap, needs --peer).</summary>
    [Option("via", Default = StackTransport.Raw, HelpText = "Transport: raw or pcap (needs --peer).")]
    public StackTransport Via { get; set; } = StackTransport.Raw;

    /// <summary>--peer: with --via pcap, an address on the peers' side; frames go to the next hop toward it.</summary>
    [Option("peer", HelpText = "With --via pcap: an address on the peers' side; frames go to the next hop toward it.")]
    public string? Peer { get; set; }

    /// <summary>--cc: the congestion control of every connection: Bbr (the default), NewReno or Cubic.</summary>
    [Option("cc", Default = CongestionAlgorithm.Bbr, HelpText = "Congestion control of every connection: Bbr (default, as serve), NewReno or Cubic.")]
    public CongestionAlgorithm CongestionControl { get; set; } = CongestionAlgorithm.Bbr;

    private const string Help = """
        a PORT              listen on PORT and accept connections in the background
        c ADDR PORT         connect to ADDR:PORT
        ls                  list sockets
        s ID DATA           send DATA (the rest of the line) on socket ID
        r ID N              receive up to N bytes on socket ID (waits for at least one)
        cl ID               close socket ID (FIN after queued data; a listener stops listening)
        sf FILE ADDR PORT   connect, send FILE, close
        rf FILE PORT        listen on PORT, accept one connection, write what it sends to FILE until it closes
        help                this text
        q                   quit
        """;

    private readonly Dictionary<int, TcpSocket> _sockets = [];
    private readonly Dictionary<int, TcpListener> _listeners = [];
    private readonly object _gate = new();
    private TextWriter _out = Console.Out;

    /// <inheritdoc/>
    public int Execute() => RunAsync(Console.In, Console.Out).GetAwaiter().GetResult();

    internal async Task<int> RunAsync(TextReader input, TextWriter output)
    {
        _out = TextWriter.Synchronized(output);
        var host = StackHost.Open(Addr, Netns, Via, Peer, new TcpConfig { CongestionControl = CongestionControl });
        try
        {
            Say($"repl on {host.Address}{(Netns is null ? "" : $" in {Netns}")} via {Via.ToString().ToLowerInvariant()}; 'help' lists the commands");
            while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                var words = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
                if (words.Length == 0)
                    continue;
                string rest = words.Length > 1 ? words[1] : "";
                if (words[0] is "q" or "quit" or "exit")
                    break;
                try
                {
                    await RunCommandAsync(host, words[0], rest).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or ArgumentException or UsageException or FormatException or UnauthorizedAccessException)
                {
                    Say($"error: {e.Message}");
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                foreach (var s in _sockets.Values)
                    s.Close();
                foreach (var l in _listeners.Values)
                    l.Dispose();
            }
            await host.DisposeAsync().ConfigureAwait(false);
        }
        return 0;
    }

    private void Say(string text)
    {
        _out.WriteLine(text);
        _out.Flush();
    }

    private async Task RunCommandAsync(StackHost host, string verb, string rest)
    {
        string[] a = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (verb)
        {
            case "help":
                Say(Help);
                break;
            case "a":
                Need(a, 1, "a PORT");
                StartAccepting(host, host.Listen(Port(a[0])));
                break;
            case "c":
            {
                Need(a, 2, "c ADDR PORT");
                var s = await host.ConnectAsync(Endpoint(a[0], a[1])).ConfigureAwait(false);
                Add(s);
                Say($"created socket {s.Id}: {s.LocalEndPoint} -> {s.RemoteEndPoint}");
                break;
            }
            case "ls":
                Say($"{"SID",4} {"LAddr",16} {"LPort",6} {"RAddr",16} {"RPort",6}  Status");
                foreach (var info in host.Stack.Sockets)
                    Say(string.Create(CultureInfo.InvariantCulture,
                        $"{info.Id,4} {info.Local.Address,16} {info.Local.Port,6} {info.Remote?.Address.ToString() ?? "*",16} {(info.Remote is { } r ? r.Port.ToString(CultureInfo.InvariantCulture) : "*"),6}  {StateName(info.State)}"));
                break;
            case "s":
            {
                var parts = rest.Split(' ', 2);
                if (parts.Length < 2 || parts[0].Length == 0)
                    throw new UsageException("usage: s ID DATA");
                var data = Encoding.UTF8.GetBytes(parts[1]);
                await Socket(parts[0]).WriteAsync(data).ConfigureAwait(false);
                Say($"sent {data.Length} bytes");
                break;
            }
            case "r":
            {
                Need(a, 2, "r ID N");
                if (!int.TryParse(a[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
                    throw new UsageException($"'{a[1]}' is not a positive byte count.");
                var buffer = new byte[n];
                int got = await Socket(a[0]).ReadAsync(buffer).ConfigureAwait(false);
                Say(got == 0 ? "read 0 bytes (peer closed)" : $"read {got} bytes: {Encoding.UTF8.GetString(buffer, 0, got)}");
                break;
            }
            case "cl":
            {
                Need(a, 1, "cl ID");
                int id = Id(a[0]);
                lock (_gate)
                {
                    if (_listeners.Remove(id, out var l))
                    {
                        l.Dispose();
                        Say($"closed listener {id}");
                        return;
                    }
                }
                Socket(a[0]).Close();
                Say($"closing socket {id}");
                break;
            }
            case "sf":
            {
                Need(a, 3, "sf FILE ADDR PORT");
                if (!File.Exists(a[0]))
                    throw new UsageException($"'{a[0]}' does not exist.");
                var s = await host.ConnectAsync(Endpoint(a[1], a[2])).ConfigureAwait(false);
                Add(s);
                long total = 0;
                await using (var file = File.OpenRead(a[0]))
                {
                    var buffer = new byte[64 * 1024];
                    int n;
                    while ((n = await file.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                    {
                        await s.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                        total += n;
                    }
                }
                s.Shutdown();
                await s.FlushAsync().ConfigureAwait(false);
                Say($"sent {total} bytes");
                break;
            }
            case "rf":
            {
                Need(a, 2, "rf FILE PORT");
                int port = Port(a[1]);
                var listener = host.Listen(port);
                Say($"waiting on port {port}");
                TcpSocket s;
                try
                {
                    s = await listener.AcceptAsync().ConfigureAwait(false);
                }
                finally
                {
                    listener.Dispose();
                }
                Add(s);
                long total = 0;
                await using (var file = File.Create(a[0]))
                {
                    var buffer = new byte[64 * 1024];
                    int n;
                    while ((n = await s.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                        total += n;
                    }
                }
                s.Close();
                Say($"received {total} bytes");
                break;
            }
            default:
                Say($"unknown command '{verb}'; 'help' lists the commands");
                break;
        }
    }

    private void StartAccepting(StackHost host, TcpListener listener)
    {
        lock (_gate)
            _listeners[listener.Id] = listener;
        Say($"listening on port {listener.LocalEndPoint.Port} (socket {listener.Id})");
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpSocket s;
                try
                {
                    s = await listener.AcceptAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    return; // listener closed
                }
                Add(s);
                Say($"accepted socket {s.Id}: {s.RemoteEndPoint}");
            }
        });
    }

    private void Add(TcpSocket s)
    {
        lock (_gate)
            _sockets[s.Id] = s;
    }

    private TcpSocket Socket(string id)
    {
        int n = Id(id);
        lock (_gate)
            return _sockets.TryGetValue(n, out var s) ? s : throw new UsageException($"no socket {n}; 'ls' lists them.");
    }

    private static int Id(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : throw new UsageException($"'{text}' is not a socket id.");

    private static int Port(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 1 and <= 65535
            ? p : throw new UsageException($"'{text}' is not a port from 1 to 65535.");

    private static IPEndPoint Endpoint(string addr, string port) =>
        IPAddress.TryParse(addr, out var a) ? new IPEndPoint(a, Port(port)) : throw new UsageException($"'{addr}' is not an IP address.");

    private static void Need(string[] args, int count, string usage)
    {
        if (args.Length < count)
            throw new UsageException($"usage: {usage}");
    }

    private static string StateName(TcpState state) => state.ToString().ToUpperInvariant() switch
    {
        "SYNSENT" => "SYN_SENT",
        "SYNRECEIVED" => "SYN_RECEIVED",
        "FINWAIT1" => "FIN_WAIT_1",
        "FINWAIT2" => "FIN_WAIT_2",
        "CLOSEWAIT" => "CLOSE_WAIT",
        "LASTACK" => "LAST_ACK",
        "TIMEWAIT" => "TIME_WAIT",
        var s => s,
    };
}
