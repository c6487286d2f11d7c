using System.Collections.Concurrent;
using System.Diagnostics;
using TcpExposure.Craft.Transport;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Responder.Hosting;
using TcpExposure.Responder.Probe;
using TcpExposure.Responder.Stateless;
using TcpExposure.Tool.Testbed;
using static TcpExposure.Responder.Probe.ProbeTests;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary>
/// Ground truth for the probe suite: the stateless responder on srv, the whole probe suite on cli,
/// and on rtr one behaviour of the middlebox emulator or of iptables (TCPOPTSTRIP, TCPMSS, NAT).
/// Every case asserts the exact code of every test: the codes the behaviour must produce (see
/// <see cref="Matrix"/>, from LEGACY_API.md) and "unchanged" (0) for all the others.
/// </summary>
/// <remarks>
/// A probe run spends most of its time waiting out answer timeouts, so the fixture keeps up to
/// <see cref="Concurrency"/> networks running at once (each in its own namespaces): while a case
/// waits for its report, the next cases' runs are already going.
/// </remarks>
[NonParallelizable]
public sealed class ProbeThroughMiddleboxTests
{
    private const int Port = 8080;
    private const int Concurrency = 3;

    /// <summary>
    /// Each path and the tests whose code it changes (every other test must report 0). Names with
    /// an <c>iptables:</c> prefix are kernel impairments on rtr; the others are emulator specs.
    /// </summary>
    private static readonly Dictionary<string, Dictionary<string, int>> Matrix = new()
    {
        ["none"] = [],
        // Option kind 30 (the legacy MP_CAPABLE the responder echoes on its SYN-ACK).
        ["strip:30:syn"] = new() { [SynOpt] = 3, [SynOpt2] = 3 },
        ["nop:30"] = new() { [SynOpt] = 3, [SynOpt2] = 3 },   // NOP-filled: gone, so removed, as in the legacy tool
        ["zero:30"] = new() { [SynOpt] = 4, [SynOpt2] = 4 },
        ["modify:30"] = new() { [SynOpt] = 5, [SynOpt2] = 5 },
        // Options on data: the timestamp (DataKnownOpt) and the legacy MP_DATA (DataOpt).
        ["strip:8:data"] = new() { [DataKnownOpt] = 3 },
        ["zero:8:data"] = new() { [DataKnownOpt] = 4 },
        ["strip:31"] = new() { [DataOpt] = 3 },
        ["modify:31"] = new() { [DataOpt] = 5 },
        // Sequence rewriting moves the hole tests' numbers with all the others: they stay 0.
        ["seq-offset:1000"] = new() { [ChangeSeq] = 1 },
        // 512-byte segments cut at 256: the options on every piece, the first or none.
        ["split:256:all"] = new() { [Split] = 1 },
        ["split:256:first"] = new() { [Split] = 2 },
        ["split:256:none"] = new() { [Split] = 3, [DataOpt] = 3, [DataKnownOpt] = 3 },
        // Three 100-byte segments merged; the merged one keeps the first one's header, so one
        // option for several segments: "kept on some".
        ["coalesce"] = new()
        {
            [Coalesce] = 1, [CoalesceKnownOpt] = 2, [CoalesceOpt] = 2,
            [CoalesceFq] = 1, [CoalesceKnownOptFq] = 2, [CoalesceOptFq] = 2,
        },
        ["proxy-ack"] = new() { [IndAck] = 1 },
        ["window:4096"] = new() { [ChangeAwnd] = 1 },
        ["drop-beyond-hole"] = new() { [SeqHole] = 1 },
        // Behaviours combine: the demo's default box.
        ["strip:30:syn,seq-offset:1000"] = new() { [SynOpt] = 3, [SynOpt2] = 3, [ChangeSeq] = 1 },
        // iptables on rtr. TCPOPTSTRIP overwrites the option with NOPs in both directions.
        ["iptables:strip:30"] = new() { [SynOpt] = 3, [SynOpt2] = 3 },
        ["iptables:strip:8"] = new() { [DataKnownOpt] = 3 },
        // TCPMSS rewrites the MSS value of SYNs in place: nothing the tests look at.
        ["iptables:mss:400"] = [],
        // Masquerading changes nothing the tests look at, except AckHole: conntrack checks
        // windows, and the stateless responder's answer (seq = the ack we sent, one segment past
        // anything srv sent) is INVALID to it, is not translated back and never reaches cli.
        ["iptables:nat"] = new() { [AckHole] = 1 },
    };

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var path in Matrix.Keys)
            yield return new TestCaseData(TransportKind.Raw, path).SetName($"Raw {path}");
        foreach (var path in Matrix.Keys) // every path over libpcap too
            yield return new TestCaseData(TransportKind.Pcap, path).SetName($"Pcap {path}");
    }

    private readonly ConcurrentDictionary<(TransportKind, string), Task<ProbeReport>> _runs = new();
    private SemaphoreSlim? _slots;
    private Stopwatch? _clock;

    [OneTimeSetUp]
    public void SetUp()
    {
        Root.Require();
        _clock = Stopwatch.StartNew();
        _slots = new SemaphoreSlim(Concurrency);
    }

    /// <summary>
    /// The report for <paramref name="kind"/> through <paramref name="path"/>, started now if it is
    /// not running yet; the cases after it start too, so that <see cref="Concurrency"/> run while
    /// this one is awaited (a filtered run starts at most that many it does not need).
    /// </summary>
    private Task<ProbeReport> ReportFor(TransportKind kind, string path)
    {
        var keys = Cases().Select(c => ((TransportKind)c.Arguments[0]!, (string)c.Arguments[1]!)).ToList();
        int at = keys.IndexOf((kind, path));
        foreach (var key in keys.Skip(at).Take(Concurrency))
            _runs.GetOrAdd(key, k => RunWhenFreeAsync(k.Item1, k.Item2));
        return _runs[(kind, path)];
    }

    [OneTimeTearDown]
    public async Task WaitForStragglers()
    {
        // A case that failed early must not leave a run (and its namespaces) behind.
        foreach (var t in _runs.Values)
            try { await t; } catch { /* reported by its own case */ }
        TestContext.Out.WriteLine($"{_runs.Count} probe runs in {_clock?.Elapsed.TotalSeconds:F0} s");
        _slots?.Dispose();
    }

    private async Task<ProbeReport> RunWhenFreeAsync(TransportKind kind, string path)
    {
        await _slots!.WaitAsync();
        try
        {
            return await Task.Run(() => ProbeThroughAsync(kind, path));
        }
        finally
        {
            _slots.Release();
        }
    }

    private static TestNetworkOptions NetworkFor(string path) => path switch
    {
        "iptables:strip:30" => new() { StripOptions = [30] },
        "iptables:strip:8" => new() { StripOptions = [8] },
        "iptables:mss:400" => new() { ClampMss = 400 },
        "iptables:nat" => new() { Nat = true },
        _ => new() { Middlebox = path },
    };

    private static async Task<ProbeReport> ProbeThroughAsync(TransportKind kind, string path)
    {
        using var net = TestNetwork.Create(NetworkFor(path));
        var srv = net.Server;
        var cli = net.Client;
        bool pcap = kind == TransportKind.Pcap;
        await using var st = TransportFactory.Open(kind, srv.Namespace, cli.Address, filter: pcap ? $"tcp port {Port}" : null);
        await using var ct = TransportFactory.Open(kind, cli.Namespace, srv.Address, filter: pcap ? $"tcp and host {srv.Address}" : null);
        using var guard = RstGuard.Create(srv.Address, Port, srv.Namespace);
        var host = new ResponderHost(st, ResponderConfig.For(Port, srv.Address));
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => host.RunAsync(stop.Token));
        try
        {
            return await ProbeSuite.RunAsync(ct, new ProbeOptions
            {
                Target = new(srv.Address, Port),
                Netns = cli.Namespace,
                Timeout = TimeSpan.FromMilliseconds(400),
            });
        }
        finally
        {
            await stop.CancelAsync();
            try { await loop; } catch (OperationCanceledException) { }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task EveryTestReportsTheCodeOfThePath(TransportKind kind, string path)
    {
        var report = await ReportFor(kind, path);
        TestContext.Out.WriteLine($"{kind} through {path} ({report.Elapsed.TotalSeconds:F1} s):\n{report.ToTable()}");
        var expected = All.ToDictionary(t => t, t => Matrix[path].GetValueOrDefault(t, Unchanged));
        Assert.Multiple(() =>
        {
            Assert.That(report.StoppedEarly, Is.Null, "the suite stopped early");
            Assert.That(report.Results.Select(r => r.Test), Is.EqualTo(All), "every test reported, in order");
            foreach (var (test, code) in expected)
            {
                var r = report[test];
                Assert.That(r, Is.Not.Null, $"{test} missing from the report");
                Assert.That(r!.Code, Is.EqualTo(code), $"{test}: {r.Code} {r.Meaning} ({r.Evidence}; runs {r.Runs}{(r.Agreed ? "" : ", none agreed")})");
            }
        });
    }

    [Test]
    public void TheMatrixCoversEveryBehaviourTheEmulatorHas()
    {
        // Every spec form of MiddleboxSpec.Help (bar "none" and the option actions' scope) has a row.
        foreach (var form in new[] { "strip", "nop", "zero", "modify", "seq-offset", "split", "coalesce", "proxy-ack", "window", "drop-beyond-hole" })
            Assert.That(Matrix.Keys.Any(k => k.Split(',').Any(b => b == form || b.StartsWith(form + ":", StringComparison.Ordinal))), Is.True, form);
        // Every box iptables can be on the path (TCPOPTSTRIP, TCPMSS, NAT) has one too.
        foreach (var box in new[] { "iptables:strip:", "iptables:mss:", "iptables:nat" })
            Assert.That(Matrix.Keys.Any(k => k.StartsWith(box, StringComparison.Ordinal)), Is.True, box);
    }
}
