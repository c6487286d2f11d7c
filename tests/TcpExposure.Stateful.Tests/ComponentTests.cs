using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful.Tests;

/// <summary>The small parts: ring buffers, reassembly, RTT estimator, scoreboard, ISNs, option and packet encoding.</summary>
public class ComponentTests
{
    [Test]
    public void SendBuffer_WrapsAroundAndPeeksInTwoPieces()
    {
        var b = new SendBuffer(10);
        Assert.That(b.Write([1, 2, 3, 4, 5, 6, 7, 8]), Is.EqualTo(8));
        b.Consume(6);
        Assert.That(b.Write([9, 10, 11, 12, 13, 14, 15, 16, 17]), Is.EqualTo(8), "only the free room is taken");
        Assert.That(b.Count, Is.EqualTo(10));
        b.Peek(1, 8, out var p1, out var p2);
        Assert.That(p1.ToArray().Concat(p2.ToArray()), Is.EqualTo(new byte[] { 8, 9, 10, 11, 12, 13, 14, 15 }));
        Assert.That(p2.Length, Is.GreaterThan(0), "the range wraps");
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Peek(5, 6, out _, out _));
    }

    [Test]
    public void ReceiveBuffer_OutOfOrderWriteThenCommitAndWrappedRead()
    {
        var r = new ReceiveBuffer(8);
        r.WriteAt(0, [1, 2, 3, 4, 5, 6]);
        r.CommitReadable(6);
        var dst = new byte[5];
        Assert.That(r.Read(dst), Is.EqualTo(5));
        Assert.That(r.Window, Is.EqualTo(7));
        Assert.That(r.WriteAt(3, [40, 50, 60, 70, 80]), Is.EqualTo(4), "cut at the window's edge");
        Assert.That(r.WriteAt(0, [10, 20, 30]), Is.EqualTo(3));
        r.CommitReadable(7);
        var all = new byte[8];
        Assert.That(r.Read(all), Is.EqualTo(8));
        Assert.That(all, Is.EqualTo(new byte[] { 6, 10, 20, 30, 40, 50, 60, 70 }));
        Assert.That(r.WriteAt(8, [1]), Is.Zero);
    }

    [Test]
    public void Reassembly_MergesRangesAndAdvances()
    {
        var q = new Reassembly();
        q.Add(300, 350);
        q.Add(100, 150);
        q.Add(140, 200);
        q.Add(400, 410);
        Assert.That(q.Count, Is.EqualTo(3));
        Assert.That(q[0], Is.EqualTo(((SeqNumber)100, (SeqNumber)200)));
        q.Add(190, 300);       // bridges two ranges
        Assert.That(q.Count, Is.EqualTo(2));
        Assert.That(q.Advance(100), Is.EqualTo((SeqNumber)350));
        Assert.That(q.Count, Is.EqualTo(1));
        Assert.That(q.Advance(360), Is.EqualTo((SeqNumber)360), "a gap stays");
    }

    [Test]
    public void Reassembly_WorksAcrossSequenceWrap()
    {
        var q = new Reassembly();
        q.Add(uint.MaxValue - 10, 5);
        q.Add(10, 20);
        Assert.That(q.Advance(uint.MaxValue - 20), Is.EqualTo((SeqNumber)(uint.MaxValue - 20)));
        Assert.That(q.Advance(uint.MaxValue - 10), Is.EqualTo((SeqNumber)5u));
        Assert.That(q.Advance(8), Is.EqualTo((SeqNumber)8u));
        Assert.That(q.Advance(10), Is.EqualTo((SeqNumber)20u));
    }

    [Test]
    public void RttEstimator_FollowsRfc6298()
    {
        var e = new RttEstimator(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(60));
        Assert.That(e.Rto, Is.EqualTo(TimeSpan.FromSeconds(1)));
        e.AddSample(TimeSpan.FromMilliseconds(100));
        Assert.That((e.SmoothedRtt, e.RttVariance, e.Rto),
            Is.EqualTo(((TimeSpan?)TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300))));
        e.AddSample(TimeSpan.FromMilliseconds(300));
        // RTTVAR = 3/4*50 + 1/4*200 = 87.5; SRTT = 7/8*100 + 1/8*300 = 125; RTO = 125 + 350.
        Assert.That(e.Rto, Is.EqualTo(TimeSpan.FromMilliseconds(475)));
        for (int i = 0; i < 20; i++)
            e.OnTimeout();
        Assert.That(e.Rto, Is.EqualTo(TimeSpan.FromSeconds(60)), "capped at max RTO");
        e.AddSample(TimeSpan.FromMilliseconds(125));
        Assert.That(e.Backoff, Is.Zero);
    }

    [Test]
    public void SackScoreboard_LossRuleHolesAndPipe()
    {
        var sb = new SackScoreboard();
        SackBlock B(uint l, uint r) => new(l, r);
        sb.Update(1000, 9000, [B(2000, 3000), B(4000, 5000)]);
        Assert.That(sb.IsLost(1000, 1000), Is.False, "two segments SACKed above: not yet");
        sb.Update(1000, 9000, [B(6000, 7000)]);
        Assert.That(sb.IsLost(1000, 1000), Is.True, "three discontiguous ranges above");
        Assert.That(sb.IsLost(3000, 1000), Is.False);
        Assert.That(sb.NextHole(1000, out var s, out var e) && s == 1000 && e == 2000, Is.True);
        Assert.That(sb.NextHole(2500, out s, out e) && s == 3000 && e == 4000, Is.True);
        Assert.That(sb.NextHole(7000, out _, out _), Is.False, "nothing above the highest SACK");
        // Pipe over 1000..9000: 1000-2000 lost (0), 3000-4000 and 5000-6000 not lost (2000), 7000-9000 in flight (2000).
        Assert.That(sb.Pipe(1000, 9000, 1000, 1000), Is.EqualTo(4000));
        Assert.That(sb.Pipe(1000, 9000, 2000, 1000), Is.EqualTo(5000), "the retransmission of the lost hole is in flight");
        sb.Acknowledge(4500);
        Assert.That(sb.SackedBytes, Is.EqualTo(1500));
        sb.Update(4500, 9000, [B(100, 200), B(8000, 12000)]);
        Assert.That(sb.SackedBytes, Is.EqualTo(1500), "blocks below SND.UNA or beyond SND.MAX are ignored");
    }

    [Test]
    public void IsnGenerator_KeyedPerTupleAndTicksEvery4Microseconds()
    {
        var g = new Rfc6528IsnGenerator(new byte[32]);
        byte[] a = [10, 0, 0, 1], b = [10, 0, 0, 2];
        uint i1 = g.Next(a, 80, b, 40000, TimeSpan.Zero);
        Assert.That(g.Next(a, 80, b, 40000, TimeSpan.Zero), Is.EqualTo(i1), "same tuple, same time, same ISN");
        Assert.That(g.Next(a, 80, b, 40001, TimeSpan.Zero), Is.Not.EqualTo(i1));
        Assert.That(g.Next(a, 80, b, 40000, TimeSpan.FromSeconds(1)) - i1, Is.EqualTo(250_000u));
        Assert.That(new Rfc6528IsnGenerator().Next(a, 80, b, 40000, TimeSpan.Zero), Is.Not.EqualTo(i1), "another key");
    }

    [Test]
    public void SegmentOptions_EncodeAsLinuxAndParseBackWithCraftParser()
    {
        var o = SegmentOptions.None;
        o.Mss = 1460; o.SackPermitted = true; o.HasTimestamps = true; o.TsVal = 7; o.TsEcr = 9; o.WindowScale = 7;
        var bytes = new byte[o.EncodedLength];
        Assert.That(o.Write(bytes), Is.EqualTo(20));
        Assert.That(bytes, Is.EqualTo(new byte[] { 2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 3, 3, 7 }), "Linux's SYN layout");
        var typed = TcpOptionParser.Parse(bytes);
        Assert.That(typed.OfType<MssOption>().Single().Value, Is.EqualTo(1460));
        Assert.That(typed.OfType<WindowScaleOption>().Single().Shift, Is.EqualTo(7));
        Assert.That(typed.OfType<TimestampsOption>().Single().Echo, Is.EqualTo(9u));
        var back = SegmentOptions.Parse(bytes);
        Assert.That((back.Mss, back.WindowScale, back.SackPermitted, back.TsVal, back.TsEcr), Is.EqualTo(((ushort)1460, 7, true, 7u, 9u)));

        var s = SegmentOptions.None;
        s.HasTimestamps = true;
        s.SackBlocks[0] = new SackBlock(100, 200);
        s.SackBlocks[1] = new SackBlock(300, 400);
        s.SackCount = 2;
        var sbytes = new byte[s.EncodedLength];
        s.Write(sbytes);
        var sack = TcpOptionParser.Parse(sbytes).OfType<SackOption>().Single();
        Assert.That(sack.Blocks, Is.EqualTo(new[] { new SackBlock(100, 200), new SackBlock(300, 400) }));
        Assert.That(SegmentOptions.Parse(sbytes).Sacks.ToArray(), Is.EqualTo(sack.Blocks.ToArray()));
    }

    [Test]
    public void SegmentOptions_ParseNeverThrowsOnGarbage()
    {
        var rnd = new Random(3);
        for (int i = 0; i < 2000; i++)
        {
            var junk = new byte[rnd.Next(0, 41)];
            rnd.NextBytes(junk);
            var o = SegmentOptions.Parse(junk);
            Assert.That(o.SackCount, Is.InRange(0, 4));
            Assert.That(o.WindowScale, Is.InRange(-1, 14));
        }
    }

    [TestCase("10.0.0.1", "10.0.0.2")]
    [TestCase("2001:db8::1", "2001:db8::2")]
    public void PacketEncoder_ProducesPacketsTheCraftParserAccepts(string src, string dst)
    {
        var o = SegmentOptions.None;
        o.HasTimestamps = true; o.TsVal = 1; o.TsEcr = 2;
        var payload = "hello, wrapped"u8.ToArray();
        var seg = new OutgoingSegment(1000, 2000, TcpFlags.Ack | TcpFlags.Psh, 512, o, payload.AsSpan(0, 7), payload.AsSpan(7));
        var s = IPAddress.Parse(src).GetAddressBytes();
        var d = IPAddress.Parse(dst).GetAddressBytes();
        var buf = new byte[200];
        int n = PacketEncoder.Encode(buf, seg, s, 80, d, 40000);
        Assert.That(PacketView.TryParse(buf.AsSpan(0, n), out var view), Is.EqualTo(PacketStatus.Tcp));
        Assert.That(view.TcpChecksumValid, Is.True);
        var parsed = SegmentParser.Parse(buf.AsSpan(0, n));
        Assert.That(parsed.IsClean, Is.True, string.Join("; ", parsed.Describe()));
        var t = parsed.Segment!;
        Assert.That((t.SourcePort, t.DestinationPort, t.Sequence.Value, t.Acknowledgment.Value, t.Flags, t.Window),
            Is.EqualTo(((ushort)80, (ushort)40000, 1000u, 2000u, TcpFlags.Ack | TcpFlags.Psh, (ushort)512)));
        Assert.That(t.Payload.ToArray(), Is.EqualTo(payload));
        Assert.That(t.Ip.Destination, Is.EqualTo(IPAddress.Parse(dst)));
    }
}
