using System.Buffers.Binary;
using System.Security.Cryptography;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// The stack's batched output: segments encoded into a batching transport's slots, back-to-back
/// data of one connection merged into super-packets where the transport offloads, and a software
/// model of the kernel's segmentation proving those super-packets become the right segments.
/// </summary>
public class BatchedOutputTests
{
    private static readonly byte[] Src = [10, 0, 0, 2], Dst = [10, 0, 0, 1];
    private const int Mss = 1448;

    private static SegmentOptions Ts(uint val) => SegmentOptions.None with { HasTimestamps = true, TsVal = val, TsEcr = 7 };

    private static void Data(BatchedOutput o, byte[] stream, int offset, int length, uint tsVal = 100, TcpFlags flags = TcpFlags.Ack, ushort dstPort = 40000)
    {
        // Split like a wrapped ring buffer: the payload comes in two pieces.
        var p = stream.AsSpan(offset, length);
        int half = length / 3;
        var seg = new OutgoingSegment(new SeqNumber(1000u + (uint)offset), new SeqNumber(5000), flags, 502, Ts(tsVal), p[..half], p[half..]);
        o.Add(seg, Src, 80, Dst, dstPort);
    }

    private static byte[] Stream(int n)
    {
        var b = new byte[n];
        new Random(5).NextBytes(b);
        return b;
    }

    private static int TcpHeader(byte[] ip) => (ip[20 + 12] >> 4) * 4;

    [Test]
    public void Offload_BackToBackSegments_BecomeOneSuperPacketTheKernelCutsBack()
    {
        var link = new InMemoryLink();
        var t = new BatchingTransport(link.A, offload: true);
        var o = new BatchedOutput(t);
        var stream = Stream(5 * Mss + 100);
        for (int i = 0; i < 5; i++)
            Data(o, stream, i * Mss, Mss);
        Data(o, stream, 5 * Mss, 100, flags: TcpFlags.Ack | TcpFlags.Psh);
        Assert.That(t.Committed, Is.Empty, "nothing leaves before the flush");
        o.Flush();

        Assert.That(t.Committed, Has.Count.EqualTo(1));
        var p = t.Committed[0];
        Assert.That(p.Offload, Is.True);
        Assert.That(p.SegmentSize, Is.EqualTo(Mss));
        Assert.That(p.Bytes.Length, Is.EqualTo(20 + 32 + stream.Length));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(p.Bytes.AsSpan(2)), Is.EqualTo(p.Bytes.Length), "IPv4 total length");
        Assert.That(Checksum.Compute(p.Bytes.AsSpan(0, 20)), Is.Zero, "IPv4 header checksum");
        Assert.That(p.Bytes.AsSpan(52).SequenceEqual(stream), Is.True, "payload in order");
        Assert.That(t.BadPseudoSums, Is.Zero);
        Assert.That(o.Merged, Is.EqualTo(5));

        var segments = BatchingTransport.Segment(p.Bytes, p.SegmentSize);
        Assert.That(segments, Has.Count.EqualTo(6));
        for (int i = 0; i < 6; i++)
        {
            var s = segments[i];
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(s.AsSpan(24)), Is.EqualTo(1000u + (uint)(i * Mss)));
            Assert.That((s[33] & (byte)TcpFlags.Psh) != 0, Is.EqualTo(i == 5), "PSH only on the last");
            Assert.That(Checksum.VerifyTransport(Checksum.PseudoHeaderSumV4(Src, Dst, 6, s.Length - 20), s.AsSpan(20)), Is.True);
            Assert.That(s.AsSpan(52).SequenceEqual(stream.AsSpan(i * Mss, i == 5 ? 100 : Mss)), Is.True);
        }
    }

    [Test]
    public void NoOffload_EverySegmentIsItsOwnPacketWithAFullChecksum()
    {
        var link = new InMemoryLink();
        var t = new BatchingTransport(link.A, offload: false, slotCapacity: 9216);
        var o = new BatchedOutput(t);
        var stream = Stream(4 * Mss);
        for (int i = 0; i < 4; i++)
            Data(o, stream, i * Mss, Mss);
        o.Flush();
        Assert.That(t.Committed, Has.Count.EqualTo(4));
        foreach (var p in t.Committed)
        {
            Assert.That(p.Offload, Is.False);
            Assert.That(p.SegmentSize, Is.Zero);
            Assert.That(Checksum.VerifyTransport(Checksum.PseudoHeaderSumV4(Src, Dst, 6, p.Bytes.Length - 20), p.Bytes.AsSpan(20)), Is.True);
        }
    }

    [Test]
    public void SuperPacketEnds_AtAGapAnotherTimestampAnotherConnectionOrAShortSegment()
    {
        var link = new InMemoryLink();
        var t = new BatchingTransport(link.A, offload: true);
        var o = new BatchedOutput(t);
        var stream = Stream(20 * Mss);
        Data(o, stream, 0, Mss);
        Data(o, stream, Mss, Mss);          // merged
        Data(o, stream, 3 * Mss, Mss);      // a gap (a retransmission elsewhere): new packet
        Data(o, stream, 4 * Mss, Mss, tsVal: 101); // another TSval: new packet
        Data(o, stream, 5 * Mss, Mss, tsVal: 101, dstPort: 40001); // another connection: new packet
        Data(o, stream, 6 * Mss, 500, tsVal: 101, dstPort: 40001); // short: merged as the last
        Data(o, stream, 6 * Mss + 500, Mss, tsVal: 101, dstPort: 40001); // after a short one: new packet
        o.Flush();
        Assert.That(t.Committed.Select(p => p.SegmentSize), Is.EqualTo(new[] { Mss, 0, 0, Mss, 0 }));
        Assert.That(t.Committed.Select(p => p.Bytes.Length - 20 - TcpHeader(p.Bytes)), Is.EqualTo(new[] { 2 * Mss, Mss, Mss, Mss + 500, Mss }));
        Assert.That(t.BadPseudoSums, Is.Zero);
    }

    [Test]
    public void ControlSegments_AreNeverMerged()
    {
        var link = new InMemoryLink();
        var t = new BatchingTransport(link.A, offload: true);
        var o = new BatchedOutput(t);
        var stream = Stream(3 * Mss);
        Data(o, stream, 0, Mss);
        Data(o, stream, Mss, Mss, flags: TcpFlags.Ack | TcpFlags.Fin);
        o.Add(new OutgoingSegment(new SeqNumber(1), default, TcpFlags.Syn, 100, SegmentOptions.None with { Mss = 1460 }, default, default), Src, 80, Dst, 40000);
        o.Flush();
        Assert.That(t.Committed, Has.Count.EqualTo(3));
        Assert.That(t.Committed.Select(p => p.SegmentSize), Has.All.Zero);
    }

    [Test]
    public void AddAndFlush_AllocateNothing()
    {
        var t = new CountingTransport();
        var o = new BatchedOutput(t);
        var stream = Stream(64 * Mss);
        void Round()
        {
            for (int i = 0; i < 64; i++)
                Data(o, stream, i * Mss, Mss);
            o.Flush();
        }
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 100; r++)
            Round();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(t.Packets, Is.EqualTo(101 * 2), "64 segments of 1448 bytes: two super-packets of at most 64 KiB");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task TwoStacks_OverBatchingTransports_MoveAMegabyteExactly(bool offload)
    {
        var transports = new List<BatchingTransport>();
        IPacketTransport Wrap(IPacketTransport inner)
        {
            var b = new BatchingTransport(inner, offload);
            transports.Add(b);
            return b;
        }
        var opts = new TcpStackOptions { Connection = new TcpConfig { TimeWait = TimeSpan.FromSeconds(2), SendBufferSize = 1 << 20 } };
        await using var h = new StackHarness(opts, new RandomLoss(0.02, 3), new RandomLoss(0.02, 4), Wrap);
        using var listener = h.Server.Listen(80);
        var file = Stream(1 << 20);
        var server = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            await s.WriteAsync(file);
            s.Close();
        });
        var client = Task.Run(async () =>
        {
            var c = await h.Client.ConnectAsync(h.ServerEndPoint(80));
            var ms = new MemoryStream();
            var buf = new byte[16384];
            int n;
            while ((n = await c.ReadAsync(buf)) > 0)
                ms.Write(buf, 0, n);
            c.Close();
            return ms.ToArray();
        });
        var received = await h.RunAsync(client, TimeSpan.FromMinutes(10));
        await h.RunAsync(server, TimeSpan.FromMinutes(10));
        Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(file)));
        var serverSide = transports[1];
        List<CommittedPacket> sent;
        lock (serverSide.Committed)
            sent = [.. serverSide.Committed];
        Assert.That(sent.Any(p => p.SegmentSize > 0), Is.EqualTo(offload), "super-packets exactly when offloading");
        Assert.That(sent.All(p => p.Offload == offload), Is.True);
        Assert.That(transports.Sum(b => b.BadPseudoSums), Is.Zero);
        Assert.That(h.Link.A.Dropped + h.Link.B.Dropped, Is.GreaterThan(0), "the link really lost packets");
        TestContext.Out.WriteLine($"offload {offload}: {sent.Count} packets committed for {h.Link.B.Sent} segments on the wire, {serverSide.Flushes} flushes");
    }

    /// <summary>Counts packets and keeps nothing: for the allocation test.</summary>
    private sealed class CountingTransport : IPacketBatchTransport
    {
        private readonly byte[] _slot = new byte[65535];
        public long Packets;
        public int SlotCapacity => _slot.Length;
        public Span<byte> PendingSlot => _slot;
        public bool CanOffload(ReadOnlySpan<byte> destination) => true;
        public void Commit(int length, bool offload, int segmentSize) => Packets++;
        public int Flush() => 0;
        public bool TryReceive(Span<byte> buffer, out ReceivedPacket packet) { packet = default; return false; }
        public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
        public ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
