using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Middlebox;
using static TcpExposure.Responder.Tests.Middlebox.Seg;

namespace TcpExposure.Responder.Tests.Middlebox;

/// <summary>
/// The forwarder's fast path: segments no behaviour touches are sent on as raw bytes (TTL
/// decremented) without being parsed. It must be exactly what the behaviours would have done, and
/// allocate nothing.
/// </summary>
public sealed class PassThroughTests
{
    /// <summary>A conversation mixing what each behaviour cares about, in both directions.</summary>
    private static IEnumerable<(TcpSegment Segment, MiddleboxDirection Direction)> Conversation()
    {
        const MiddleboxDirection up = MiddleboxDirection.ToServer, down = MiddleboxDirection.ToClient;
        var mp = new LegacyMpCapableOption(0x01020304, 0x1122334455667788);
        yield return (ToServer(TcpFlags.Syn, 1000, 0, 0, 40000, new MssOption(512), new TimestampsOption(1, 0), mp), up);
        yield return (ToClient(TcpFlags.Syn | TcpFlags.Ack, 5000, 1001, 0, 40000, new MssOption(512), mp), down);
        yield return (ToServer(TcpFlags.Ack, 1001, 5001), up);
        yield return (ToServer(TcpFlags.Ack | TcpFlags.Psh, 1001, 5001, 100, 40000, new TimestampsOption(2, 1)), up);
        yield return (ToServer(TcpFlags.Ack | TcpFlags.Psh, 1101, 5001, 512, 40000, new LegacyMpDataOption(1, 512, 1)), up);
        yield return (ToClient(TcpFlags.Ack, 5001, 1613), down);
        yield return (ToServer(TcpFlags.Ack | TcpFlags.Psh, 3000, 5001, 100), up); // beyond a hole
        yield return (ToServer(TcpFlags.Ack, 1613, 5001) with { Window = 4096 }, up);
        yield return (ToClient(TcpFlags.Ack | TcpFlags.Psh, 5001, 1613, 50), down);
        yield return (ToServer(TcpFlags.Fin | TcpFlags.Ack, 1613, 5051), up);
        yield return (ToServer(TcpFlags.Rst, 1614, 0), up);
        yield return (ToServer(TcpFlags.Syn, 7000, 0, 0, 40001), up);
    }

    [TestCase("none")]
    [TestCase("strip:30:syn")]
    [TestCase("zero:8:data")]
    [TestCase("modify:31")]
    [TestCase("seq-offset:1000")]
    [TestCase("seq-offset:0")]
    [TestCase("split:256:first")]
    [TestCase("coalesce")]
    [TestCase("proxy-ack")]
    [TestCase("window:4096")]
    [TestCase("drop-beyond-hole")]
    [TestCase("strip:30:syn,window:4096")]
    public void WhatPassesUnparsedIsWhatTheBehavioursWouldHaveSent(string spec)
    {
        var sent = new List<RoutedSegment>();
        var passed = new List<(byte[] Bytes, MiddleboxDirection Direction)>();
        using var fast = new MiddleboxEngine(MiddleboxSpec.Parse(spec), TimeProvider.System, sent.Add);
        var reference = new MiddleboxPipeline(MiddleboxSpec.Parse(spec));
        int fastCount = 0;
        foreach (var (segment, direction) in Conversation())
        {
            var wire = segment.ToArray();
            var expected = reference.Process(segment, direction).ToList();
            var buffer = (byte[])wire.Clone();
            passed.Clear();
            if (fast.TryPassThrough(buffer, direction, (p, d) => passed.Add((p.ToArray(), d))))
            {
                fastCount++;
                // The behaviours would have sent this one segment, unchanged, the same way.
                Assert.That(expected, Has.Count.EqualTo(1), $"{spec}: {segment}");
                Assert.That(expected[0].Direction, Is.EqualTo(direction));
                Assert.That(expected[0].Segment.ToArray(), Is.EqualTo(wire), $"{spec}: a behaviour changed {segment}");
                Assert.That(passed, Has.Count.EqualTo(1));
                var (bytes, d) = passed[0];
                Assert.That(d, Is.EqualTo(direction));
                var r = SegmentParser.Parse(bytes);
                Assert.That(r.Problems, Is.EqualTo(ParseProblems.None), string.Join("; ", r.Describe()));
                Assert.That(r.Segment!.Ip.Ttl, Is.EqualTo(segment.Ip.Ttl - 1));
                Assert.That(bytes.AsSpan(12).SequenceEqual(wire.AsSpan(12)) && bytes.AsSpan(0, 8).SequenceEqual(wire.AsSpan(0, 8)), Is.True, "only TTL and IP checksum differ");
            }
            else
            {
                fast.Handle(segment, direction); // keep its state in step with the reference
            }
        }
        TestContext.Out.WriteLine($"{spec}: {fastCount} of {Conversation().Count()} passed unparsed");
        if (spec is "none" or "seq-offset:0")
            Assert.That(fastCount, Is.EqualTo(Conversation().Count()));
        if (spec.StartsWith("seq-offset:1", StringComparison.Ordinal))
            Assert.That(fastCount, Is.Zero);
    }

    [Test]
    public void ExpiringTtlAndBrokenPacketsTakeTheSlowPath()
    {
        using var engine = new MiddleboxEngine([], TimeProvider.System, _ => { });
        var s = ToServer(TcpFlags.Ack, 1, 2, 10);
        Assert.That(engine.TryPassThrough(Wire(s with { Ip = ((Ipv4Header)s.Ip) with { Ttl = 1 } }), MiddleboxDirection.ToServer, (_, _) => Assert.Fail("sent")), Is.False);
        Assert.That(engine.TryPassThrough(Wire(s).AsSpan(0, 30).ToArray(), MiddleboxDirection.ToServer, (_, _) => Assert.Fail("sent")), Is.False);
        Assert.That(engine.TryPassThrough([], MiddleboxDirection.ToServer, (_, _) => Assert.Fail("sent")), Is.False);
    }

    [Test]
    public void PassingThroughAllocatesNothing()
    {
        using var engine = new MiddleboxEngine(MiddleboxSpec.Parse("window:4096,strip:30:syn,split:1000"), TimeProvider.System, _ => { });
        var packet = Wire(ToClient(TcpFlags.Ack | TcpFlags.Psh, 5001, 1613, 100, 40000, new TimestampsOption(3, 4)));
        long bytes = 0;
        PacketSender send = (p, _) => bytes += p.Length;
        for (int i = 0; i < 1000; i++)
        {
            packet[8] = 64;
            engine.TryPassThrough(packet, MiddleboxDirection.ToClient, send);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            packet[8] = 64;
            engine.TryPassThrough(packet, MiddleboxDirection.ToClient, send);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(bytes, Is.EqualTo(101_000L * packet.Length));
    }
}
