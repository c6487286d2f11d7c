using System.Diagnostics;

namespace TcpExposure.Benchmarks;

/// <summary>
/// `--quick`: a fast sanity check while optimizing (best of several timed batches, which is robust
/// on a shared machine). The README figures come from BenchmarkDotNet, not from this.
/// </summary>
public static class QuickTimer
{
    public static void Run()
    {
        var b = new CodecBenchmarks();
        b.Setup();
        Time("EncodeSyn", () => b.EncodeSyn());
        Time("ParseSyn", () => b.ParseSyn());
        Time("SummaryLine", () => b.SummaryLine().Length);
        var seg = SynSegment.Create();
        var buf = new byte[2048];
        var pkt = seg.ToArray();
        Time("Sum140", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(20)));
        Time("Sum20", () => (int)TcpExposure.Craft.Wire.Checksum.Sum(pkt.AsSpan(0, 20)));
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

    private static void Time(string name, Func<int> f)
    {
        const int batch = 50_000;
        double best = double.MaxValue;
        long alloc = 0;
        for (int r = 0; r < 40; r++)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < batch; i++) f();
            sw.Stop();
            alloc = (GC.GetAllocatedBytesForCurrentThread() - a0) / batch;
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / batch);
        }
        Console.WriteLine($"{name,-16} {best,8:F1} ns  {alloc,6} B/op (delegate call included)");
    }
}
