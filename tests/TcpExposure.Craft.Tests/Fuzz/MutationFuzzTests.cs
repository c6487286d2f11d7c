using System.Diagnostics;
using FsCheck.Fluent;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Tests.Properties;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Fuzz;

/// <summary>
/// One million seeded mutations of crafted segments (bit flips, byte sets, truncations,
/// extensions, option length bytes 0/1/255, data offsets 0-15, IHL 0-15, versions, IP length
/// fields) fed to every parser. Nothing may escape but <see cref="ArgumentException"/> from
/// ParseHeaders (its documented error, and only for packets PacketView also rejects); nothing may
/// hang; views never disagree with themselves; and parse then encode reproduces the input
/// whenever the TCP header is readable, except in the one case the design exempts: the IP length
/// field is shorter than the bytes present, so the rest is treated as link-layer padding and dropped.
/// (A data offset past the end is not exempt: the parser keeps an unaligned tail as payload.)
/// </summary>
public class MutationFuzzTests
{
    private const int Iterations = 1_000_000;
    private const int Seed = 20261122;

    [Test]
    public void OneMillionMutatedSegmentsNeverBreakTheParsers()
    {
        var corpus = Corpus();
        var state = new FuzzState();
        var worker = new Thread(() => Run(corpus, state)) { IsBackground = true, Name = "fuzz" };
        var sw = Stopwatch.StartNew();
        worker.Start();
        // A hang shows as a worker that does not finish; report the input it is stuck on.
        if (!worker.Join(TimeSpan.FromMinutes(3)))
            Assert.Fail($"Parsing hung (or crawled) at iteration {state.Iteration} on {Convert.ToHexString(state.Current)}.");
        if (state.Failure is not null)
            Assert.Fail(state.Failure);
        TestContext.Out.WriteLine($"{Iterations} mutated segments in {sw.Elapsed.TotalSeconds:F1} s: " +
            $"{state.Tcp} with a TCP header, {state.RoundTripped} reproduced byte for byte, {state.Exempt} exempt, {state.Rejected} rejected.");
        Assert.That(state.Iteration, Is.EqualTo(Iterations));
        // The mutations must exercise both sides, or the test proves little.
        Assert.That(state.Tcp, Is.GreaterThan(Iterations / 4));
        Assert.That(state.Rejected, Is.GreaterThan(Iterations / 20));
        Assert.That(state.RoundTripped, Is.GreaterThan(Iterations / 5));
        Assert.That(state.Malformed, Is.GreaterThan(Iterations / 50));
    }

    private sealed class FuzzState
    {
        public volatile int Iteration;
        public byte[] Current = [];
        public string? Failure;
        public int Tcp, RoundTripped, Exempt, Rejected, Malformed;
    }

    /// <summary>Crafted segments of every shape: both families, IP options, every option type, payloads of any length.</summary>
    private static byte[][] Corpus()
    {
        var segments = Generators.Segment.Sample(60, new FsCheck.Rnd(Seed), 300);
        var list = segments.Select(s => s.ToArray()).ToList();
        // A few with IPv6 extension headers and with lying offsets, so the skipping code is mutated too.
        foreach (var s in segments.Take(40))
        {
            if (s.Ip is Ipv6Header v6)
                list.Add((s with { Ip = v6 with { Protocol = 0, ExtensionHeaders = new byte[] { 60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0 } } }).ToArray());
            else
                list.Add((s with { DataOffset = 15 }).ToArray());
        }
        return [.. list];
    }

    private static void Run(byte[][] corpus, FuzzState state)
    {
        var rnd = new Random(Seed);
        var buffer = new byte[4096];
        for (int it = 0; it < Iterations; it++)
        {
            state.Iteration = it;
            var seed = corpus[rnd.Next(corpus.Length)];
            seed.CopyTo(buffer, 0);
            int len = Mutate(rnd, buffer, seed.Length);
            var packet = buffer.AsSpan(0, len);
            try
            {
                // The legacy summary is compared both ways on every 4th input (it is the slow part).
                Check(packet, state, compareSummaries: (it & 3) == 0);
            }
            catch (Exception e)
            {
                state.Current = packet.ToArray();
                state.Failure = $"Iteration {it} (seed {Seed}): {e.GetType().Name}: {e.Message}\ninput {Convert.ToHexString(packet)}\n{e.StackTrace}";
                return;
            }
        }
        state.Iteration = Iterations;
    }

    private static int Mutate(Random rnd, byte[] b, int len)
    {
        int count = 1 + rnd.Next(4);
        for (int m = 0; m < count; m++)
        {
            int ipHl = len > 0 && b[0] >> 4 == 4 ? (b[0] & 0x0F) * 4 : 40;
            switch (rnd.Next(10))
            {
                case 0 when len > 0: b[rnd.Next(len)] ^= (byte)(1 << rnd.Next(8)); break;
                case 1 when len > 0: b[rnd.Next(len)] = (byte)rnd.Next(256); break;
                case 2: len = rnd.Next(len + 1); break;
                case 3:
                    int add = rnd.Next(1, 80);
                    if (len + add <= b.Length) { rnd.NextBytes(b.AsSpan(len, add)); len += add; }
                    break;
                case 4 or 5:
                    // An option length byte (or what sits where one could be): 0, 1 or 255.
                    int at = ipHl + 21 + rnd.Next(40);
                    if (at < len) b[at] = rnd.Next(3) switch { 0 => 0, 1 => 1, _ => 255 };
                    break;
                case 6:
                    if (ipHl + 12 < len) b[ipHl + 12] = (byte)((rnd.Next(16) << 4) | (b[ipHl + 12] & 0x0F));
                    break;
                case 7 when len > 0: b[0] = (byte)((b[0] & 0xF0) | rnd.Next(16)); break;
                case 8 when len > 0: b[0] = (byte)((rnd.Next(4) switch { 0 => 4, 1 => 6, _ => rnd.Next(16) } << 4) | (b[0] & 0x0F)); break;
                case 9 when len > 6:
                    // IP length field: total length (IPv4) or payload length (IPv6), small or random lies.
                    int f = b[0] >> 4 == 6 ? 4 : 2;
                    int v = (b[f] << 8 | b[f + 1]) + rnd.Next(-64, 64);
                    if (rnd.Next(4) == 0) v = rnd.Next(65536);
                    b[f] = (byte)(v >> 8); b[f + 1] = (byte)v;
                    break;
            }
        }
        return len;
    }

    private static void Check(ReadOnlySpan<byte> packet, FuzzState state, bool compareSummaries)
    {
        var status = PacketView.TryParse(packet, out var view);
        if (status == PacketStatus.Tcp)
        {
            state.Tcp++;
            CheckView(view, state);
        }
        else
        {
            state.Rejected++;
        }

        var result = SegmentParser.Parse(packet);
        if (compareSummaries && status == PacketStatus.Tcp)
        {
            // The other MPTCP dialects see the same option bytes differently; they must not throw either.
            var space = view.Tcp.OptionBytes;
            foreach (var dialect in (ReadOnlySpan<Options.MptcpDialect>)[Options.MptcpDialect.Rfc8684, Options.MptcpDialect.Legacy])
                if (Options.TcpOptionParser.Parse(space, dialect).Sum(o => o.Length) != space.Length)
                    throw new InvalidOperationException($"{dialect} options do not cover the option space.");
        }
        if (result.HasSegment != (status == PacketStatus.Tcp))
            throw new InvalidOperationException($"SegmentParser read a segment: {result.HasSegment}, PacketView said {status}.");
        _ = result.Describe().Count();

        LegacyParsed? legacy = null;
        try
        {
            legacy = LegacyCraft.ParseHeaders(packet);
        }
        catch (ArgumentException) when (status != PacketStatus.Tcp)
        {
        }
        if (legacy is not null && compareSummaries)
        {
            string slow = LegacyCraft.SummarizeAns1(legacy);
            string fast = LegacyCraft.SummarizePkt(packet);
            if (slow != fast)
                throw new InvalidOperationException($"summarize_pkt differs from summarize_ans1(parse_headers):\n{fast}{slow}");
        }
        else if (legacy is null && status == PacketStatus.Tcp)
        {
            throw new InvalidOperationException("ParseHeaders rejected a packet PacketView reads as TCP.");
        }
        else if (legacy is null)
        {
            try { LegacyCraft.SummarizePkt(packet); throw new InvalidOperationException("SummarizePkt accepted a packet ParseHeaders rejects."); }
            catch (ArgumentException) { }
        }

        if (result.Segment is not { } segment)
            return;
        bool exempt = view.Bytes.Length < packet.Length;
        if (exempt)
        {
            state.Exempt++;
            return;
        }
        byte[] again = segment.ToArray();
        if (!packet.SequenceEqual(again))
            throw new InvalidOperationException($"Parse then encode changed the bytes:\nout {Convert.ToHexString(again)}");
        state.RoundTripped++;
    }

    private static void CheckView(PacketView view, FuzzState state)
    {
        var tcp = view.Tcp;
        _ = (tcp.SourcePort, tcp.DestinationPort, tcp.Sequence, tcp.Acknowledgment, tcp.Flags, tcp.Window, tcp.UrgentPointer, tcp.Reserved);
        _ = view.TcpChecksumValid;
        if (!view.IsIpv6) _ = view.Ipv4.ChecksumValid;

        var space = tcp.OptionBytes;
        int covered = 0, expectedOffset = 0;
        bool malformed = false, hasMss = false, hasWs = false, hasTs = false, sackOk = false;
        ushort mss = 0;
        byte ws = 0;
        uint tsv = 0, tse = 0;
        foreach (var o in tcp.Options)
        {
            if (o.Offset != expectedOffset)
                throw new InvalidOperationException($"Option at {o.Offset}, expected {expectedOffset}.");
            covered += o.WireLength;
            expectedOffset += o.WireLength;
            if (o.Problem != OptionProblem.None) malformed = true;
            if (o.TryGetMss(out var m)) { hasMss = true; mss = m; }
            if (o.TryGetWindowScale(out var w)) { hasWs = true; ws = w; }
            if (o.TryGetTimestamps(out var v, out var e)) { hasTs = true; tsv = v; tse = e; }
            if (o.Kind == TcpOptionKind.SackPermitted && o.Problem == OptionProblem.None) sackOk = true;
        }
        if (covered != space.Length)
            throw new InvalidOperationException($"Options cover {covered} of {space.Length} bytes.");
        if (malformed) state.Malformed++;

        var s = TcpOptionSummary.Read(space);
        if ((s.HasMss, s.Mss, s.HasWindowScale, s.WindowScale, s.HasTimestamps, s.TsValue, s.TsEcho, s.SackPermitted, s.HasMalformed)
            != (hasMss, mss, hasWs, ws, hasTs, tsv, tse, sackOk, malformed))
            throw new InvalidOperationException("TcpOptionSummary disagrees with the option enumerator.");
        for (int i = 0; i < s.SackBlockCount; i++)
            if (!s.TryGetSackBlock(space, i, out _, out _))
                throw new InvalidOperationException("A counted SACK block cannot be read.");
    }
}
