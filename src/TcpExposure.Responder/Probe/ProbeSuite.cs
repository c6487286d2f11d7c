using System.Diagnostics;
using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using static TcpExposure.Responder.Probe.ProbeTests;

namespace TcpExposure.Responder.Probe;

/// <summary>
/// The legacy tcpexposure.py middlebox tests against a stateless responder. Every test opens its
/// own connection from a fresh random source port (guarded against the kernel's RSTs), sends its
/// crafted segments through <see cref="SendReceive"/> and reads the answers, mostly the
/// responder's 0xa1 echo of what arrived. A test is run until two runs agree; the suite stops
/// early when Syn or Data is not 0, as the original did.
/// </summary>
public sealed class ProbeSuite
{
    private readonly IPacketTransport _transport;
    private readonly ProbeOptions _o;
    private readonly IPAddress _source;
    private readonly PcapWriter? _pcap;

    /// <summary>
    /// How the path shifts our sequence and acknowledgment numbers on every segment, as the last
    /// Data exchange measured from its echo (null until measured). The hole tests undo it.
    /// </summary>
    private (int Seq, int Ack)? _shift;

    private ProbeSuite(IPacketTransport transport, ProbeOptions options, IPAddress source)
    {
        _transport = transport;
        _o = options;
        _source = source;
        if (options.Capture is { } c)
            _pcap = new PcapWriter(c, LinkType.Raw, nanosecond: true, leaveOpen: true);
    }

    /// <summary>The tests each exchange yields: the first is the one whose code decides agreement.</summary>
    private static readonly (string Primary, string[] Yields)[] Groups =
    [
        (Syn, [Syn, UnexpAwnd]),
        (SynOpt, [SynOpt]),
        (SynOpt2, [SynOpt2]),
        (Data, [Data, IndAck, ChangeSeq, ChangeAwnd, ChangeIncomingSeq]),
        (DataKnownOpt, [DataKnownOpt]),
        (DataOpt, [DataOpt, Split]),
        (Coalesce, [Coalesce]), (CoalesceKnownOpt, [CoalesceKnownOpt]), (CoalesceOpt, [CoalesceOpt]),
        (CoalesceFq, [CoalesceFq]), (CoalesceKnownOptFq, [CoalesceKnownOptFq]), (CoalesceOptFq, [CoalesceOptFq]),
        (PseudoRtx, [PseudoRtx]), (PseudoRtxL, [PseudoRtxL]), (PseudoRtxS, [PseudoRtxS]),
        (SeqHole, [SeqHole]), (AckHole, [AckHole]),
    ];

    /// <summary>
    /// Runs the tests of <paramref name="options"/> over <paramref name="transport"/> (which the
    /// caller opened, in the right namespace, and disposes).
    /// </summary>
    public static async Task<ProbeReport> RunAsync(IPacketTransport transport, ProbeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        var wanted = options.Tests ?? All;
        foreach (var t in wanted)
            if (!All.Contains(t))
                throw new ArgumentException($"Unknown probe test '{t}'. Tests: {string.Join(", ", All)}.");
        var source = options.Source ?? NetworkNamespace.Run(options.Netns, () => Routes.SourceAddressFor(options.Target.Address));
        var suite = new ProbeSuite(transport, options, source);
        var started = options.Time.GetUtcNow();
        long clock = options.Time.GetTimestamp();
        var results = new Dictionary<string, ProbeResult>();
        string? stopped = null;
        try
        {
            foreach (var (primary, yields) in Groups)
            {
                if (!yields.Any(wanted.Contains))
                    continue;
                cancellationToken.ThrowIfCancellationRequested();
                var (outcomes, runs, agreed) = await suite.RunAgreedAsync(primary, cancellationToken).ConfigureAwait(false);
                foreach (var name in yields)
                {
                    if (!wanted.Contains(name) || !outcomes.TryGetValue(name, out var oc)) continue;
                    results[name] = new ProbeResult(name, oc.Code, Meaning(name, oc.Code), oc.Evidence, name == primary ? runs : 0, agreed);
                }
                if ((primary == Syn || primary == Data) && outcomes[primary].Code != 0)
                {
                    stopped = $"{primary} is {outcomes[primary].Code} ({Meaning(primary, outcomes[primary].Code)})";
                    break;
                }
            }
        }
        finally
        {
            suite._pcap?.Dispose();
        }
        var ordered = All.Where(results.ContainsKey).Select(t => results[t]).ToList();
        return new ProbeReport(options.Target, source, transport.GetType().Name.Replace("Transport", "", StringComparison.Ordinal),
            started, options.Time.GetElapsedTime(clock), ordered, stopped);
    }

    private async Task<(Dictionary<string, ProbeOutcome> Outcomes, int Runs, bool Agreed)> RunAgreedAsync(string primary, CancellationToken ct)
    {
        var runs = new List<Dictionary<string, ProbeOutcome>>();
        int max = Math.Max(2, _o.MaxRuns);
        bool Silent(Dictionary<string, ProbeOutcome> run) => IsNoAnswer(primary, run[primary].Code);
        for (int i = 1; i <= max; i++)
        {
            _o.Progress?.Invoke(primary, i, null);
            var r = await RunOnceAsync(primary, ct).ConfigureAwait(false);
            _o.Progress?.Invoke(primary, i, r[primary]);
            // A run that got no answer is a lost packet until proven otherwise (the legacy tool
            // retried those): two of them agree only if no run got an answer.
            if (runs.Any(p => p[primary].Code == r[primary].Code) && !(Silent(r) && runs.Any(p => !Silent(p))))
                return (r, i, true);
            runs.Add(r);
        }
        return (runs.LastOrDefault(p => !Silent(p)) ?? runs[^1], max, false);
    }

    private Task<Dictionary<string, ProbeOutcome>> RunOnceAsync(string test, CancellationToken ct) => test switch
    {
        Syn => SynAsync(ct),
        SynOpt => SynOptAsync(SynOpt, padded: false, ct),
        SynOpt2 => SynOptAsync(SynOpt2, padded: true, ct),
        Data => DataAsync(Data, null, ct),
        DataKnownOpt => DataAsync(DataKnownOpt, TcpOptionKind.Timestamps, ct),
        DataOpt => DataAsync(DataOpt, TcpOptionKind.LegacyMpData, ct),
        Coalesce => CoalesceAsync(test, null, false, ct),
        CoalesceKnownOpt => CoalesceAsync(test, TcpOptionKind.Timestamps, false, ct),
        CoalesceOpt => CoalesceAsync(test, TcpOptionKind.LegacyMpData, false, ct),
        CoalesceFq => CoalesceAsync(test, null, true, ct),
        CoalesceKnownOptFq => CoalesceAsync(test, TcpOptionKind.Timestamps, true, ct),
        CoalesceOptFq => CoalesceAsync(test, TcpOptionKind.LegacyMpData, true, ct),
        PseudoRtx => PseudoRtxAsync(test, 0, ct),
        PseudoRtxL => PseudoRtxAsync(test, 16, ct),
        PseudoRtxS => PseudoRtxAsync(test, -16, ct),
        SeqHole => HoleAsync(test, ackField: false, ct),
        AckHole => HoleAsync(test, ackField: true, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(test)),
    };

    // ---- connections ----

    private sealed class Connection(IPEndPoint local, IDisposable? guard) : IDisposable
    {
        public IPEndPoint Local { get; } = local;
        public TcpSegment? SynAck { get; set; }
        public void Dispose() => guard?.Dispose();
    }

    private Connection Open()
    {
        int port = Random.Shared.Next(_o.PortLow, _o.PortHigh + 1);
        var local = new IPEndPoint(_source, port);
        var guard = _o.RstGuard ? Craft.Transport.RstGuard.Create(_source, port, _o.Netns) : null;
        return new Connection(local, guard);
    }

    private TcpSegment Segment(Connection c, TcpFlags flags, uint seq, uint ack, ReadOnlyMemory<byte> payload, params TcpOption[] options)
        => TcpSegment.Create(c.Local, _o.Target, flags) with
        {
            Sequence = seq, Acknowledgment = ack, Window = _o.Window, Options = [.. options], Payload = payload,
        };

    private TcpOption[] SynOptions() => [new MssOption(_o.Mss), new TimestampsOption(_o.TsVal, 0), new WindowScaleOption(_o.WindowScale)];

    private async Task<IReadOnlyList<TcpSegment>> ExchangeAsync(IReadOnlyList<TcpSegment> segments, StopCondition until, CancellationToken ct, TimeSpan? timeout = null)
    {
        var result = await SendReceive.RunAsync(_transport, segments.Select(s => OutgoingPacket.From(s)).ToList(),
            new SendReceiveOptions { Timeout = timeout ?? _o.Timeout, Until = until, Time = _o.Time }, ct).ConfigureAwait(false);
        if (_pcap is not null)
        {
            foreach (var s in result.Sent) _pcap.Write(s.Bytes.Span, s.Timestamp);
            foreach (var a in result.Answers) _pcap.Write(a.Packet.Span, a.Timestamp);
        }
        return result.Answers.Where(a => a.Segment is not null).Select(a => a.Segment!).ToList();
    }

    /// <summary>Attempts at the handshake that sets up a test (the legacy tool retransmitted its SYN too).</summary>
    private const int HandshakeAttempts = 3;

    /// <summary>
    /// SYN, wait for the SYN-ACK; null when none came. The SYN is sent again, waiting twice as long
    /// each time, when nothing came back: a lost handshake is not what the test measures.
    /// </summary>
    private async Task<TcpSegment?> HandshakeAsync(Connection c, CancellationToken ct)
    {
        var syn = Segment(c, TcpFlags.Syn, _o.Isn, 0, default, SynOptions());
        for (int attempt = 0; attempt < HandshakeAttempts && c.SynAck is null; attempt++)
        {
            var answers = await ExchangeAsync([syn], StopCondition.SynAck, ct, _o.Timeout * (1 << attempt)).ConfigureAwait(false);
            c.SynAck = answers.FirstOrDefault(a => (a.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack));
            if (answers.Any(a => (a.Flags & TcpFlags.Rst) != 0))
                break;
        }
        return c.SynAck;
    }

    private static Dictionary<string, ProbeOutcome> NoHandshake(string test) => new() { [test] = new(NoAnswer(test), "no SYN-ACK to the handshake") };

    /// <summary>A payload of <paramref name="length"/> bytes: the command byte, then a counting pattern seeded by <paramref name="seed"/>.</summary>
    internal static byte[] Payload(int length, byte command, byte seed)
    {
        var p = new byte[length];
        for (int i = 0; i < length; i++) p[i] = (byte)(seed + i);
        if (length > 0) p[0] = command;
        return p;
    }

    private uint PeerTs(Connection c) => c.SynAck?.Options.OfType<TimestampsOption>().FirstOrDefault()?.Value ?? 0;

    // ---- tests ----

    private async Task<Dictionary<string, ProbeOutcome>> SynAsync(CancellationToken ct)
    {
        using var c = Open();
        var answers = await ExchangeAsync([Segment(c, TcpFlags.Syn, _o.Isn, 0, default, SynOptions())], StopCondition.SynAck, ct).ConfigureAwait(false);
        var syn = ProbeClassifier.Syn(answers);
        var sa = answers.FirstOrDefault(a => (a.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack));
        return new()
        {
            [Syn] = syn,
            [UnexpAwnd] = sa is null ? new(7, "no SYN-ACK") : ProbeClassifier.UnexpAwnd(sa, _o.ResponderWindow),
        };
    }

    private async Task<Dictionary<string, ProbeOutcome>> SynOptAsync(string test, bool padded, CancellationToken ct)
    {
        using var c = Open();
        var mp = new LegacyMpCapableOption(0x01020304, 0x1122334455667788);
        TcpOption[] options = padded
            ? [new MssOption(_o.Mss), new NopOption(), new NopOption(), new TimestampsOption(_o.TsVal, 0), new NopOption(),
               new WindowScaleOption(_o.WindowScale), new NopOption(), new NopOption(), mp]
            : [.. SynOptions(), mp];
        var answers = await ExchangeAsync([Segment(c, TcpFlags.Syn, _o.Isn, 0, default, options)], StopCondition.SynAck, ct).ConfigureAwait(false);
        // The responder's SYN-ACK: MSS 4, TS 12, WSCALE 4, SACK_PERMITTED 4, MP_CAPABLE 16.
        return new() { [test] = ProbeClassifier.SynOpt(answers) };
    }

    private async Task<Dictionary<string, ProbeOutcome>> DataAsync(string test, byte? kind, CancellationToken ct)
    {
        using var c = Open();
        var sa = await HandshakeAsync(c, ct).ConfigureAwait(false);
        if (sa is null) return NoHandshake(test);
        var opts = kind switch
        {
            TcpOptionKind.Timestamps => new TcpOption[] { new TimestampsOption(_o.TsVal + 1, PeerTs(c)) },
            TcpOptionKind.LegacyMpData => [new LegacyMpDataOption(1, _o.Mss, 1)],
            _ => [],
        };
        var data = Segment(c, TcpFlags.Ack | TcpFlags.Psh, _o.Isn + 1, sa.Sequence.Value + 1, Payload(_o.Mss, 0xa1, 0x10), opts);
        var answers = await ExchangeAsync([data], StopCondition.None, ct).ConfigureAwait(false);
        var outcomes = new Dictionary<string, ProbeOutcome>
        {
            [test] = kind is { } k ? ProbeClassifier.DataOption(answers, data, k) : ProbeClassifier.Data(answers, data),
        };
        var echoes = ProbeClassifier.Echoes(answers);
        if (kind is null && echoes.Count > 0)
            _shift = (echoes[0].Echo.Received.Sequence - data.Sequence, echoes[0].Echo.Received.Acknowledgment - data.Acknowledgment);
        if (test == Data)
        {
            outcomes[IndAck] = ProbeClassifier.IndAck(answers);
            if (echoes.Count > 0)
            {
                outcomes[ChangeSeq] = ProbeClassifier.ChangeSeq(echoes[0].Echo, data);
                outcomes[ChangeAwnd] = ProbeClassifier.ChangeAwnd(echoes[0].Echo, data);
                outcomes[ChangeIncomingSeq] = ProbeClassifier.ChangeIncomingSeq(echoes[0].Echo, echoes[0].Answer);
            }
            else
            {
                outcomes[ChangeSeq] = outcomes[ChangeAwnd] = outcomes[ChangeIncomingSeq] = new(7, "no echo");
            }
        }
        if (test == DataOpt)
            outcomes[Split] = ProbeClassifier.Split(answers, data, kind);
        return outcomes;
    }

    private async Task<Dictionary<string, ProbeOutcome>> CoalesceAsync(string test, byte? kind, bool firstLast, CancellationToken ct)
    {
        using var c = Open();
        var sa = await HandshakeAsync(c, ct).ConfigureAwait(false);
        if (sa is null) return NoHandshake(test);
        const int size = 100;
        var segs = new List<TcpSegment>();
        for (int i = 0; i < 3; i++)
        {
            uint seq = _o.Isn + 1 + (uint)(i * size);
            var opts = kind switch
            {
                TcpOptionKind.Timestamps => new TcpOption[] { new TimestampsOption(_o.TsVal + 1 + (uint)i, PeerTs(c)) },
                TcpOptionKind.LegacyMpData => [new LegacyMpDataOption(1 + (uint)(i * size), size, 1 + (uint)(i * size))],
                _ => [],
            };
            segs.Add(Segment(c, TcpFlags.Ack | TcpFlags.Psh, seq, sa.Sequence.Value + 1, Payload(size, 0xa1, (byte)(0x20 * i)), opts));
        }
        var order = firstLast ? new List<TcpSegment> { segs[1], segs[2], segs[0] } : segs;
        var answers = await ExchangeAsync(order, StopCondition.None, ct).ConfigureAwait(false);
        return new() { [test] = ProbeClassifier.Coalesce(answers, segs, kind) };
    }

    private async Task<Dictionary<string, ProbeOutcome>> PseudoRtxAsync(string test, int resize, CancellationToken ct)
    {
        using var c = Open();
        var sa = await HandshakeAsync(c, ct).ConfigureAwait(false);
        if (sa is null) return NoHandshake(test);
        const int size = 100;
        uint ack = sa.Sequence.Value + 1;
        var first = Segment(c, TcpFlags.Ack | TcpFlags.Psh, _o.Isn + 1, ack, Payload(size, 0x00, 0x30));
        var second = Segment(c, TcpFlags.Ack | TcpFlags.Psh, _o.Isn + 1 + size, ack, Payload(size, 0xb2, 0x40));
        await ExchangeAsync([first, second], StopCondition.None, ct).ConfigureAwait(false);
        var again = Segment(c, TcpFlags.Ack | TcpFlags.Psh, _o.Isn + 1 + size, ack, Payload(size + resize, 0xa1, 0x90));
        var answers = await ExchangeAsync([again], StopCondition.None, ct).ConfigureAwait(false);
        return new() { [test] = ProbeClassifier.PseudoRtx(answers, second, again) };
    }

    private async Task<Dictionary<string, ProbeOutcome>> HoleAsync(string test, bool ackField, CancellationToken ct)
    {
        // The hole is judged against the path's constant shift: measure it first if Data did not run.
        if (_shift is null)
            await DataAsync(Data, null, ct).ConfigureAwait(false);
        using var c = Open();
        var sa = await HandshakeAsync(c, ct).ConfigureAwait(false);
        if (sa is null) return NoHandshake(test);
        uint seq = _o.Isn + 1 + (ackField ? 0u : _o.Mss);
        uint ack = sa.Sequence.Value + 1 + (ackField ? _o.Mss : 0u);
        var data = Segment(c, TcpFlags.Ack | TcpFlags.Psh, seq, ack, Payload(_o.Mss, 0xa1, 0x50));
        var answers = await ExchangeAsync([data], StopCondition.None, ct).ConfigureAwait(false);
        int offset = _shift is { } sh ? (ackField ? sh.Ack : sh.Seq) : 0;
        return new() { [test] = ProbeClassifier.Hole(answers, data, ackField, offset) };
    }
}
