using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Middlebox;
using TcpExposure.Responder.Probe;
using TcpExposure.Responder.Stateless;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure demo</c>: builds the test network (cli -- rtr -- srv), runs a chosen middlebox on
/// rtr and a listening socket on srv, plays a probe-style exchange from cli (a SYN with the probe's
/// options and MP_CAPABLE, the handshake's ACK, a full-size data segment, three small segments)
/// watching the wire at cli, at srv and where srv's answers enter rtr, and prints what the path did
/// to every segment in both directions. Everything is torn down at the end, on errors and on Ctrl-C.
/// </summary>
/// <remarks>
/// Then it runs the stateless responder on srv and the probe suite (every legacy test) from cli
/// through the same middlebox and prints the probe's table of result codes.
/// </remarks>
[Verb("demo", HelpText = "Build a test network, run a middlebox on its router, probe through it from cli and show what the path did to TCP; tear everything down.")]
public sealed class DemoCommand : ICommand
{
    /// <summary>The default: a box that strips an unknown option from SYNs and randomises sequence numbers.</summary>
    public const string DefaultMiddlebox = "strip:30:syn,seq-offset:1000";

    private const ushort ServerPort = 80;
    private int _step;
    private const int Steps = 7;
    private const int ResponderPort = 8080;

    /// <summary>--middlebox: the comma-separated middlebox behaviours run on rtr; default <see cref="DefaultMiddlebox"/>.</summary>
    [Option("middlebox", Default = DefaultMiddlebox, HelpText = "Middlebox behaviours on rtr: " + MiddleboxSpec.Help + ".")]
    public string Middlebox { get; set; } = DefaultMiddlebox;

    /// <summary>-q/--quiet: no progress lines on stderr.</summary>
    [Option('q', "quiet", HelpText = "No progress on stderr.")]
    public bool Quiet { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure demo --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("The default: strip MP_CAPABLE from SYNs and shift sequence numbers", new DemoCommand()),
        new("A resegmenting box that keeps options on the first piece only", new DemoCommand { Middlebox = "split:256:first" }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        try
        {
            MiddleboxSpec.Parse(Middlebox);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        Privileges.Require("The demo (network namespaces, iptables, raw sockets)", Capability.SysAdmin, Capability.NetAdmin, Capability.NetRaw);
        return RunAsync().GetAwaiter().GetResult();
    }

    private void Progress(string message)
    {
        if (!Quiet)
            Console.Error.WriteLine($"demo: [{++_step}/{Steps}] {message}");
    }

    private async Task<int> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        Progress($"building the test network cli -- rtr -- srv with the middlebox '{Middlebox}' on rtr");
        using var net = TestNetwork.Create(new TestNetworkOptions { Middlebox = Middlebox });
        Console.Out.Write(net.Describe());

        Progress($"listening on srv {net.Server.Address}:{ServerPort} (the kernel's TCP)");
        using var listener = net.Run("srv", () =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Any, ServerPort));
            l.Listen();
            return l;
        });
        using var stop = new CancellationTokenSource();
        var drain = DrainAsync(listener, stop.Token);

        Progress("opening captures at cli, at srv and on rtr's side toward srv");
        await using var cli = net.Run("cli", () => new RawSocketTransport(new() { Interface = "eth0" }));
        await using var atSrv = net.Run("srv", () => new RawSocketTransport(new() { Interface = "eth0" }));
        await using var fromSrv = net.Run("rtr", () => new RawSocketTransport(new() { Interface = "eth1" }));
        ushort port = (ushort)Random.Shared.Next(20000, 50000);
        using var guard = RstGuard.Create(net.Client.Address, port, net.Client.Namespace); // our raw handshake, not cli's kernel
        var arrived = new Recorder(atSrv, s => s.SourcePort == port && s.DestinationPort == ServerPort);
        var answered = new Recorder(fromSrv, s => s.SourcePort == ServerPort && s.DestinationPort == port);
        await Task.Delay(50);

        Progress("probing from cli: SYN with options, ACK, a 1000-byte data segment, three small segments, a hole, FIN");
        var rows = new List<Row>();
        TcpSegment Make(TcpFlags flags, uint seq, uint ack, int payload, params TcpOption[] options) =>
            TcpSegment.Create(new IPEndPoint(net.Client.Address, port), new IPEndPoint(net.Server.Address, ServerPort), flags) with
            {
                Sequence = seq,
                Acknowledgment = ack,
                Window = 8064,
                Options = [.. options],
                Payload = Enumerable.Range(0, payload).Select(i => (byte)('a' + i % 26)).ToArray(),
                Ip = new Ipv4Header { Source = net.Client.Address, Destination = net.Server.Address, Ttl = 64 },
            };
        const uint isn = 252001;
        var syn = Make(TcpFlags.Syn, isn, 0, 0, new MssOption(512), new SackPermittedOption(), new TimestampsOption(13572468, 0),
            new WindowScaleOption(2), new LegacyMpCapableOption(0x01020304, 0x0A0B0C0D0E0F1011));
        var synAck = await ExchangeAsync(cli, arrived, answered, rows, "SYN", [syn]);
        var sa = synAck.FirstOrDefault(s => s.Flags.Has(TcpFlags.Syn | TcpFlags.Ack));
        if (sa is null)
        {
            Console.Out.WriteLine("no SYN-ACK came back: the path (or srv) blocks this connection; nothing more to probe.");
        }
        else
        {
            uint next = isn + 1, ack = sa.Sequence.Value + 1;
            var ts = new TimestampsOption(13572469, sa.Options.OfType<TimestampsOption>().FirstOrDefault()?.Value ?? 0);
            await ExchangeAsync(cli, arrived, answered, rows, "ACK", [Make(TcpFlags.Ack, next, ack, 0, ts)]);
            await ExchangeAsync(cli, arrived, answered, rows, "data", [Make(TcpFlags.Ack | TcpFlags.Psh, next, ack, 1000, ts)]);
            next += 1000;
            await ExchangeAsync(cli, arrived, answered, rows, "small x3",
                [Make(TcpFlags.Ack, next, ack, 100, ts), Make(TcpFlags.Ack, next + 100, ack, 100, ts), Make(TcpFlags.Ack | TcpFlags.Psh, next + 200, ack, 100, ts)]);
            next += 300;
            // A segment beyond a hole, then the one filling it: in-order enforcers drop the first.
            await ExchangeAsync(cli, arrived, answered, rows, "hole",
                [Make(TcpFlags.Ack | TcpFlags.Psh, next + 100, ack, 100, ts), Make(TcpFlags.Ack, next, ack, 100, ts)]);
            next += 200;
            await ExchangeAsync(cli, arrived, answered, rows, "FIN", [Make(TcpFlags.Ack | TcpFlags.Fin, next, ack, 0, ts)]);
        }
        stop.Cancel();
        await drain;

        Progress("report");
        Print(rows, net.Middlebox!);

        Progress($"the stateless responder on srv:{ResponderPort}, the probe suite from cli");
        await using (var st = TransportFactory.Open(TransportKind.Raw, net.Server.Namespace, net.Client.Address))
        await using (var ct = TransportFactory.Open(TransportKind.Raw, net.Client.Namespace, net.Server.Address))
        using (var srvGuard = RstGuard.Create(net.Server.Address, ResponderPort, net.Server.Namespace))
        using (var halt = new CancellationTokenSource())
        {
            var host = new ResponderHost(st, ResponderConfig.For(ResponderPort, net.Server.Address));
            var loop = Task.Run(() => host.RunAsync(halt.Token));
            try
            {
                var report = await ProbeSuite.RunAsync(ct, new ProbeOptions
                {
                    Target = new IPEndPoint(net.Server.Address, ResponderPort),
                    Netns = net.Client.Namespace,
                    Timeout = TimeSpan.FromMilliseconds(300),
                    Progress = Quiet ? null : ProbeProgress.Create("  probe: "),
                });
                if (!Quiet)
                    ProbeProgress.Finish();
                Console.Out.WriteLine();
                Console.Out.Write(report.ToTable());
            }
            finally
            {
                await halt.CancelAsync();
                try { await loop; } catch (OperationCanceledException) { }
            }
        }
        Progress($"tearing down {net.Prefix}-* (done in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        return 0;
    }

    private sealed record Row(string Step, TcpSegment Sent, IReadOnlyList<TcpSegment> Arrived, IReadOnlyList<TcpSegment> ServerSent, IReadOnlyList<TcpSegment> ClientGot)
    {
        /// <summary>Its bytes arrived inside a segment that began earlier (coalesced with the one before).</summary>
        public bool InsideEarlier { get; init; }
    }

    /// <summary>Collects, in order, the segments one capture sees that a predicate accepts.</summary>
    private sealed class Recorder
    {
        private readonly List<TcpSegment> _seen = [];

        public Recorder(RawSocketTransport capture, Func<TcpSegment, bool> match)
        {
            _ = Task.Run(async () =>
            {
                var buffer = new byte[65536];
                try
                {
                    while (true)
                    {
                        var r = await capture.ReceiveAsync(buffer);
                        if (SegmentParser.Parse(buffer.AsSpan(0, r.Length)).Segment is { } s && match(s))
                            lock (_seen)
                                _seen.Add(s);
                    }
                }
                catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException or SocketException)
                {
                }
            });
        }

        public List<TcpSegment> Take()
        {
            lock (_seen)
            {
                var all = _seen.ToList();
                _seen.Clear();
                return all;
            }
        }
    }

    private static async Task<List<TcpSegment>> ExchangeAsync(RawSocketTransport cli, Recorder arrived, Recorder answered, List<Row> rows, string step, TcpSegment[] segments)
    {
        arrived.Take();
        answered.Take();
        var result = await SendReceive.RunAsync(cli, segments.Select(s => OutgoingPacket.From(s, TimeSpan.FromMilliseconds(1))).ToArray(),
            new SendReceiveOptions { Timeout = TimeSpan.FromMilliseconds(400) });
        await Task.Delay(100); // what the middlebox held (coalescing) has left by now
        var atSrv = arrived.Take();
        var fromSrv = answered.Take();
        var atCli = result.Answers.Select(a => a.Segment).OfType<TcpSegment>().Where(s => s.DestinationPort == segments[0].SourcePort).ToList();
        for (int i = 0; i < segments.Length; i++)
        {
            // Segments sent together share what arrived: the first is credited with all, the others with theirs.
            bool inside = false;
            var mine = segments.Length == 1 ? atSrv : Attribute(segments, i, atSrv, out inside);
            rows.Add(new Row(segments.Length == 1 ? step : $"{step} #{i + 1}", segments[i], mine, i == 0 ? fromSrv : [], i == 0 ? atCli : [])
            {
                InsideEarlier = segments.Length > 1 && inside,
            });
        }
        return atCli;
    }

    // Which arrived segments carry sent segment i's bytes, allowing for a constant sequence shift
    // (taken from the lowest sequence number that arrived); inside: they arrived in a segment that began earlier.
    private static List<TcpSegment> Attribute(TcpSegment[] sent, int i, List<TcpSegment> arrived, out bool inside)
    {
        inside = false;
        if (arrived.Count == 0)
            return [];
        var lowestSent = sent.Select(s => s.Sequence).Aggregate((a, b) => a < b ? a : b);
        var lowestArrived = arrived.Select(s => s.Sequence).Aggregate((a, b) => a < b ? a : b);
        int shift = lowestArrived - lowestSent;
        var start = sent[i].Sequence + shift;
        var end = start + Math.Max(1, sent[i].Payload.Length);
        var starting = arrived.Where(a => a.Sequence >= start && a.Sequence < end).ToList();
        if (starting.Count > 0)
            return starting;
        var container = arrived.Where(a => a.Sequence < start && a.Sequence + a.Payload.Length >= end).ToList();
        inside = container.Count > 0;
        return container;
    }

    private static string Brief(TcpSegment s)
    {
        var options = s.Options.Where(o => o is not EndOfOptionListOption).ToList();
        string head = string.Create(CultureInfo.InvariantCulture,
            $"{s.Flags.ToString().Replace(", ", "|", StringComparison.Ordinal)} seq {s.Sequence.Value} ack {s.Acknowledgment.Value} win {s.Window} len {s.Payload.Length}");
        return options.Count == 0 ? head : $"{head} [{string.Join(" ", options)}]";
    }

    private static string Kinds(TcpSegment s) =>
        string.Join(",", s.Options.Where(o => o is not EndOfOptionListOption and not NopOption).Select(o => o.Kind));

    private static void Print(List<Row> rows, MiddleboxForwarder middlebox)
    {
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine($"What the path through '{middlebox.Pipeline}' did (cli sent -> srv received; srv sent -> cli received):");
        // Finding -> the steps it was seen in, in order of first appearance.
        var findings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        void Found(string what, string step)
        {
            if (!findings.TryGetValue(what, out var steps))
            {
                findings[what] = steps = [];
                order.Add(what);
            }
            if (!steps.Contains(step))
                steps.Add(step);
        }
        foreach (var r in rows)
        {
            o.WriteLine($"  {r.Step}");
            o.WriteLine($"    cli sent      {Brief(r.Sent)}");
            foreach (var a in r.InsideEarlier ? [] : r.Arrived)
                o.WriteLine($"    srv received  {Brief(a)}");
            IReadOnlyList<string> diff = r.InsideEarlier ? ["coalesced into the segment before it"] : SegmentDiff.Describe(r.Sent, r.Arrived);
            foreach (var d in diff)
            {
                o.WriteLine($"      => {d}");
                Found($"toward srv: {d}", r.Step.Split(' ')[0]);
            }
            var unmatched = r.ClientGot.ToList();
            for (int i = 0; i < r.ServerSent.Count; i++)
            {
                var s = r.ServerSent[i];
                o.WriteLine($"    srv sent      {Brief(s)}");
                // What cli got for it: the first not yet matched segment of the same kind, in order.
                // Preferring the same window and option kinds keeps an ACK the middlebox made from being taken for srv's.
                var same = unmatched.Where(c => c.Flags == s.Flags && c.Payload.Length == s.Payload.Length && c.Sequence == s.Sequence).ToList();
                var got = same.Where(c => c.Window == s.Window && Kinds(c) == Kinds(s)).Concat(same).Take(1).ToList();
                unmatched.RemoveAll(got.Contains);
                foreach (var g in got)
                    o.WriteLine($"    cli received  {Brief(g)}");
                foreach (var d in SegmentDiff.Describe(s, got))
                {
                    o.WriteLine($"      => {d}");
                    Found($"toward cli: {d}", r.Step.Split(' ')[0]);
                }
            }
            foreach (var u in unmatched)
            {
                o.WriteLine($"    cli received  {Brief(u)}");
                o.WriteLine("      => not sent by srv: the middlebox made it (e.g. an ACK on the server's behalf)");
                Found("toward cli: segments srv never sent (an ACK on its behalf)", r.Step.Split(' ')[0]);
            }
        }
        o.WriteLine();
        o.WriteLine(findings.Count == 0 ? "Summary: the path left every segment unchanged (TTL aside)." : "Summary:");
        foreach (var f in order)
            o.WriteLine($"  - {f} ({string.Join(", ", findings[f])})");
        o.WriteLine($"Middlebox counters: {middlebox.Counters}");
    }

    private static async Task DrainAsync(Socket listener, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var s = await listener.AcceptAsync(stop);
                _ = Task.Run(async () =>
                {
                    using (s)
                    {
                        var b = new byte[4096];
                        try
                        {
                            while (await s.ReceiveAsync(b, SocketFlags.None, stop) > 0)
                            {
                            }
                        }
                        catch (Exception e) when (e is OperationCanceledException or SocketException)
                        {
                        }
                    }
                }, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
