using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Middlebox;
using static TcpExposure.Responder.Tests.Middlebox.Seg;

namespace TcpExposure.Responder.Tests.Middlebox;

public class SegmentDiffTests
{
    private static readonly TcpOption Mp = new LegacyMpCapableOption(1, 2);

    [Test]
    public void WhatEachBehaviourDidIsNamed()
    {
        var syn = ToServer(TcpFlags.Syn, 100, options: [new MssOption(512), Mp]);
        Assert.That(SegmentDiff.Describe(syn, [syn]), Is.Empty);
        Assert.That(SegmentDiff.Describe(syn, []), Is.EqualTo(new[] { "dropped" }));
        foreach (var (spec, expected) in new[]
        {
            ("strip:30", "option MPTCP (30) removed"),
            ("zero:30", "option MPTCP (30) zeroed"),
            ("modify:30", "option MPTCP (30) modified"),
            ("seq-offset:1000", "sequence number shifted by +1000"),
            ("window:4096", "window 8064 -> 4096"),
        })
        {
            var got = Run(MiddleboxSpec.ParseOne(spec), syn).Select(r => r.Segment).ToList();
            Assert.That(SegmentDiff.Describe(syn, got), Is.EqualTo(new[] { expected }), spec);
        }
        var data = ToServer(TcpFlags.Ack, 101, 1, 600, options: [new TimestampsOption(1, 2)]);
        var pieces = Run(new SplitBehaviour(256, SplitOptions.First), data).Select(r => r.Segment).ToList();
        Assert.That(SegmentDiff.Describe(data, pieces), Is.EqualTo(new[] { "split into 3 segments (256+256+88 bytes), options on 1 of them" }));
        var ack = ToClient(TcpFlags.Ack, 1, 700);
        var shifted = Run(new SequenceOffsetBehaviour(100), ack, MiddleboxDirection.ToClient).Select(r => r.Segment).ToList();
        Assert.That(SegmentDiff.Describe(ack, shifted), Is.EqualTo(new[] { "acknowledgment number shifted by -100" }));
    }
}
