using System.Diagnostics;

namespace TcpExposure.Benchmarks;

/// <summary>
/// `--quick [NAME...]`: a fast sanity check while optimizing (best of several timed batches, which is robust
/// on a shared machine). The README figures come from BenchmarkDotNet, not from this.
/// </summary>
public static class QuickTimer
{
    private static string[] _only = [];

    /// <summary>Times every piece, or only those whose names start with one of <paramref name="only"/>.</summary>
    public static void Run(params string[] only)
    {
        _only = only;
        Register();
        Measure();
    }

    /// <summary>
    /// `--loop NAME SECONDS`: runs one piece in a tight loop (for perf record, or to read
    /// DOTNET_JitDisasm output of its tier-1 code), then prints its rate.
    /// </summary>
    public static void Loop(string name, double seconds)
    {
        _only = [name];
        Register();
        var (n, f) = Pieces.First();
        var sw = Stopwatch.StartNew();
        long calls = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < Batch; i++) f();
            calls += Batch;
        }
        Console.WriteLine($"{n}: {calls} calls, {sw.Elapsed.TotalNanoseconds / calls:F1} ns each (delegate call included)");
    }

    private static void Register()
    {
        var b = new CodecBenchmarks();
        b.Setup();
        Time("EncodeSyn", () => b.EncodeSyn());
        Time("EncodeSynFirst", () => b.EncodeSynFirst());
        Time("ParseSyn", () => b.ParseSyn());
        Time("SummaryLine", () => b.SummaryLine().Length);
        var seg = SynSegment.Create();
        var buf = new byte[2048];
        var pkt = seg.ToArray();
        Time("Sum140", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(20)));
        Time("Sum20", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(0, 20)));
        Time("CopyAndSum100", () => (int)TcpExposure.Craft.Wire.Checksum.CopyAndSum(pkt.AsSpan(60), buf.AsSpan(60)));
        Time("Copy100", () => { pkt.AsSpan(60).CopyTo(buf.AsSpan(60)); return 0; });
        Time("Sum100", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(60)));
        Time("Sum8", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(12, 8)));
        var ip = (TcpExposure.Craft.Packets.Ipv4Header)seg.Ip;
        Time("AddrWrite", () => { ip.Source.TryWriteBytes(buf.AsSpan(12, 4), out int n); return n; });
        Time("IpWrite", () => { seg.Ip.Write(buf, 140); return 0; });
        Time("Pseudo", () => (int)seg.Ip.PseudoHeaderSum(pkt.AsSpan(0, 20), 140));
        Time("Opts", () => { int at = 0; foreach (var o in seg.Options) { o.Write(buf.AsSpan(at)); at += o.Length; } return at; });
        Time("EncodeTcp", () => seg.EncodeTcp(buf));
        Time("Nothing", () => 0);
        var bare = (seg with { Options = [] }).ToArray();
        Time("SummaryNoOpts", () => TcpExposure.Craft.Legacy.LegacyCraft.SummarizePkt(bare).Length);
        Time("ParseToSegment", () => b.ParseToSegment().Problems.GetHashCode());
    }

    private static readonly List<(string Name, Func<int> F)> Pieces = [];

    private static void Time(string name, Func<int> f)
    {
        if (_only.Length == 0 || _only.Any(o => name.StartsWith(o, StringComparison.OrdinalIgnoreCase)))
            Pieces.Add((name, f));
    }

    private const int Batch = 50_000;

    private static void Measure()
    {
        // Warm every piece up past tiered compilation first (tier 0, instrumented tier 0, then the
        // background tier-1 compile, which waits while the process keeps compiling new methods and
        // starves on a loaded machine). Timing without this measured tier-0 code in some runs.
        for (int round = 0; round < 3; round++)
        {
            foreach (var (_, f) in Pieces)
                for (int i = 0; i < Batch; i++) f();
            Thread.Sleep(300);
        }
        foreach (var (name, f) in Pieces)
        {
            double best = double.MaxValue;
            long alloc = 0;
            for (int r = 0; r < 40; r++)
            {
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < Batch; i++) f();
                sw.Stop();
                alloc = (GC.GetAllocatedBytesForCurrentThread() - a0) / Batch;
                best = Math.Min(best, sw.Elapsed.TotalNanoseconds / Batch);
            }
            Console.WriteLine($"{name,-16} {best,8:F1} ns  {alloc,6} B/op (delegate call included)");
        }
    }
}
