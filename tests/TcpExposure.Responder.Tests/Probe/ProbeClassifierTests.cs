using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Probe;
using TcpExposure.Responder.Stateless;
using static TcpExposure.Responder.Tests.Stateless.StatelessResponderTests;

namespace TcpExposure.Responder.Tests.Probe;

/// <summary>
/// The classifiers on synthetic answers: what the real responder core answers to what a
/// middlebox would have delivered to it, then what a middlebox would do to that answer.
/// </summary>
public sealed class ProbeClassifierTests
{
    /// <summary>The responder's answers to <paramref name="arrived"/> (what reached it), parsed.</summary>
    private static List<TcpSegment> Answer(TcpSegment arrived)
    {
        var (r, o) = Run(arrived);
        var list = new List<TcpSegment>();
        if (r.FirstLength > 0) list.Add(SegmentParser.Parse(o.AsSpan(0, r.FirstLength)).Segment!);
        if (r.SecondLength > 0) list.Add(SegmentParser.Parse(o.AsSpan(r.FirstLength, r.SecondLength)).Segment!);
        return list;
    }

    private static TcpSegment Syn(params TcpOption[] o) => Seg(TcpFlags.Syn, 252001, 0, null, o);
    private static TcpSegment DataSeg(params TcpOption[] o) => Seg(TcpFlags.Ack | TcpFlags.Psh, 252002, 0xabcdf0, ProbeSuite.Payload(512, 0xa1, 0x10), o);
    private static readonly LegacyMpCapableOption Mp = new(0x01020304, 0x1122334455667788);

    [Test]
    public void SynCodes()
    {
        Assert.That(ProbeClassifier.Syn(Answer(Syn())).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.Syn([]).Code, Is.EqualTo(1));
        Assert.That(ProbeClassifier.Syn([Seg(TcpFlags.Rst | TcpFlags.Ack, 0, 1)]).Code, Is.EqualTo(2));
        var sa = Answer(Syn())[0];
        Assert.That(ProbeClassifier.UnexpAwnd(sa).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.UnexpAwnd(sa with { Window = 5840 }).Code, Is.EqualTo(1));
    }

    [Test]
    public void SynOptCodes()
    {
        Assert.That(ProbeClassifier.SynOpt(Answer(Syn(new MssOption(512), Mp))).Code, Is.EqualTo(0), "kept");
        var withMp = Answer(Syn(new MssOption(512), new TimestampsOption(1, 0), new WindowScaleOption(2), Mp))[0];
        Assert.That(ProbeClassifier.SynOpt([withMp]).Code, Is.EqualTo(0));
        // Stripped on the way in: the responder never saw it.
        var stripped = Answer(Syn(new MssOption(512), new TimestampsOption(1, 0), new WindowScaleOption(2)))[0];
        Assert.That(ProbeClassifier.SynOpt([stripped]).Code, Is.EqualTo(3), "removed");
        // Overwritten with NOPs on the way back (TCPOPTSTRIP): same header length, no option: removed, as the legacy tool said.
        var nops = withMp with { Options = [.. withMp.Options.Where(o => o.Kind != 30), .. Enumerable.Repeat<TcpOption>(new NopOption(), 14)] };
        Assert.That(nops.TcpHeaderLength, Is.EqualTo(withMp.TcpHeaderLength));
        Assert.That(ProbeClassifier.SynOpt([nops]).Code, Is.EqualTo(3), "NOP-filled is removed");
        TcpSegment With(TcpOption mp) => withMp with { Options = [.. withMp.Options.Select(o => o.Kind == 30 ? mp : o)] };
        Assert.That(ProbeClassifier.SynOpt([With(new LegacyMpCapableOption(0, 0))]).Code, Is.EqualTo(4), "zeroed");
        Assert.That(ProbeClassifier.SynOpt([With(new LegacyMpCapableOption(0, ProbeClassifier.LegacyMpIdsn))]).Code, Is.EqualTo(4), "token zeroed");
        Assert.That(ProbeClassifier.SynOpt([With(new RawOption(30, new byte[12]))]).Code, Is.EqualTo(4), "raw zeros");
        Assert.That(ProbeClassifier.SynOpt([With(new LegacyMpCapableOption(0x5B565150, 0x1234))]).Code, Is.EqualTo(5), "modified");
        Assert.That(ProbeClassifier.SynOpt([]).Code, Is.EqualTo(1));
    }

    [Test]
    public void DataAndItsDerivedTestsOnACleanPath()
    {
        var sent = DataSeg();
        var answers = Answer(sent);
        var echo = ProbeClassifier.Echoes(answers).Single();
        Assert.Multiple(() =>
        {
            Assert.That(ProbeClassifier.Data(answers, sent).Code, Is.EqualTo(0));
            Assert.That(echo.Echo.ReceivedPayloadLength, Is.EqualTo(512));
            Assert.That(echo.Echo.Data.Span[..512].SequenceEqual(sent.Payload.Span), Is.True);
            Assert.That(ProbeClassifier.IndAck(answers).Code, Is.EqualTo(0));
            Assert.That(ProbeClassifier.ChangeSeq(echo.Echo, sent).Code, Is.EqualTo(0));
            Assert.That(ProbeClassifier.ChangeAwnd(echo.Echo, sent).Code, Is.EqualTo(0));
            Assert.That(ProbeClassifier.ChangeIncomingSeq(echo.Echo, echo.Answer).Code, Is.EqualTo(0));
            Assert.That(ProbeClassifier.Split(answers, sent, null).Code, Is.EqualTo(0));
        });
    }

    [Test]
    public void DataCodesForMiddleboxBehaviours()
    {
        var sent = DataSeg();
        Assert.That(ProbeClassifier.Data([], sent).Code, Is.EqualTo(1));
        Assert.That(ProbeClassifier.Data([Seg(TcpFlags.Rst, 0, 0)], sent).Code, Is.EqualTo(2));
        Assert.That(ProbeClassifier.Data([Seg(TcpFlags.Ack, 0, 252514)], sent).Code, Is.EqualTo(6));
        // Sequence numbers shifted by 1000 toward the server, window rewritten.
        var shifted = Answer(sent with { Sequence = sent.Sequence + 1000, Window = 1024 });
        var e = ProbeClassifier.Echoes(shifted).Single().Echo;
        Assert.That(ProbeClassifier.ChangeSeq(e, sent).Code, Is.EqualTo(1));
        Assert.That(ProbeClassifier.ChangeAwnd(e, sent).Code, Is.EqualTo(1));
        // The answer's seq shifted toward the client.
        var back = Answer(sent);
        var moved = back[0] with { Sequence = back[0].Sequence + 77 };
        Assert.That(ProbeClassifier.ChangeIncomingSeq(ProbeClassifier.Echoes([moved]).Single().Echo, moved).Code, Is.EqualTo(1));
        // A proxy ACKs first.
        Assert.That(ProbeClassifier.IndAck([Seg(TcpFlags.Ack, 0, 252514), .. back]).Code, Is.EqualTo(1));
    }

    [Test]
    public void DataOptionCodes()
    {
        var mpData = new LegacyMpDataOption(1, 512, 1);
        var sent = DataSeg(mpData);
        Assert.That(ProbeClassifier.DataOption(Answer(sent), sent, 31).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.DataOption(Answer(sent with { Options = [] }), sent, 31).Code, Is.EqualTo(3));
        // TCPOPTSTRIP's NOPs: gone, so removed (3); zeros in place: zeroed (4).
        Assert.That(ProbeClassifier.DataOption(Answer(sent with { Options = [.. Enumerable.Repeat<TcpOption>(new NopOption(), 12)] }), sent, 31).Code, Is.EqualTo(3));
        Assert.That(ProbeClassifier.DataOption(Answer(sent with { Options = [new RawOption(31, new byte[10])] }), sent, 31).Code, Is.EqualTo(4));
        Assert.That(ProbeClassifier.DataOption(Answer(sent with { Options = [new LegacyMpDataOption(9, 512, 1)] }), sent, 31).Code, Is.EqualTo(5));
        var ts = new TimestampsOption(13572469, 12345678);
        var tsSent = DataSeg(ts);
        Assert.That(ProbeClassifier.DataOption(Answer(tsSent), tsSent, 8).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.DataOption(Answer(tsSent with { Options = [new TimestampsOption(0, 0)] }), tsSent, 8).Code, Is.EqualTo(4));
        Assert.That(ProbeClassifier.DataOption(Answer(tsSent with { Options = [new TimestampsOption(1, 12345678)] }), tsSent, 8).Code, Is.EqualTo(5));
    }

    [Test]
    public void SplitCodes()
    {
        var mpData = new LegacyMpDataOption(1, 512, 1);
        var sent = DataSeg(mpData);
        // What a splitter delivers: pieces of the one payload, so only the first starts with 0xa1
        // and is echoed; the responder ACKs the others plainly (with MP_ACK if they carry MP_DATA).
        TcpSegment Part(int from, int len, bool opt) => sent with
        {
            Sequence = sent.Sequence + from,
            Payload = sent.Payload.Slice(from, len),
            Options = opt ? [mpData] : [],
        };
        List<TcpSegment> Pieces(params bool[] opts)
        {
            var list = new List<TcpSegment>();
            int size = 512 / opts.Length;
            for (int i = 0; i < opts.Length; i++)
                list.AddRange(Answer(Part(i * size, i == opts.Length - 1 ? 512 - i * size : size, opts[i])));
            return list;
        }
        Assert.Multiple(() =>
        {
            Assert.That(ProbeClassifier.Echoes(Pieces(true, true)), Has.Count.EqualTo(1), "only the first piece is echoed");
            Assert.That(ProbeClassifier.Split(Pieces(true, true), sent, 31).Code, Is.EqualTo(1), "all");
            Assert.That(ProbeClassifier.Split(Pieces(true, false), sent, 31).Code, Is.EqualTo(2), "first");
            Assert.That(ProbeClassifier.Split(Pieces(false, true), sent, 31).Code, Is.EqualTo(2), "last");
            Assert.That(ProbeClassifier.Split(Pieces(false, false), sent, 31).Code, Is.EqualTo(3), "none");
            Assert.That(ProbeClassifier.Split(Pieces(true, false, false, false), sent, 31).Code, Is.EqualTo(2), "first of four");
            Assert.That(ProbeClassifier.Split(Pieces(true, true, true, true), sent, 31).Code, Is.EqualTo(1), "all of four");
            Assert.That(ProbeClassifier.Split(Pieces(true, true), sent, null).Code, Is.EqualTo(1), "split, no option asked");
            Assert.That(ProbeClassifier.Split(Answer(sent), sent, 31).Code, Is.EqualTo(0));
            Assert.That(ProbeClassifier.Split(Pieces(true, false), sent, 31).Evidence, Does.Contain("2 pieces"));
        });
        // A timestamp on the pieces shows in the responder's answers too.
        var ts = new TimestampsOption(13572469, 12345678);
        var tsSent = DataSeg(ts);
        var tsPieces = Answer(tsSent with { Payload = tsSent.Payload[..256] })
            .Concat(Answer(tsSent with { Sequence = tsSent.Sequence + 256, Payload = tsSent.Payload[256..], Options = [] })).ToList();
        Assert.That(ProbeClassifier.Split(tsPieces, tsSent, 8).Code, Is.EqualTo(2));
    }

    [Test]
    public void CoalesceCodes()
    {
        var ts = new TimestampsOption(5, 6);
        var segs = Enumerable.Range(0, 3).Select(i => Seg(TcpFlags.Ack, 252002 + (uint)(i * 100), 1, ProbeSuite.Payload(100, 0xa1, (byte)i), ts)).ToList();
        var separate = segs.SelectMany(Answer).ToList();
        Assert.That(ProbeClassifier.Coalesce(separate, segs, null).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.Coalesce(separate, segs, 8).Code, Is.EqualTo(0));
        var merged = segs[0] with { Payload = segs.SelectMany(s => s.Payload.ToArray()).ToArray() };
        Assert.That(ProbeClassifier.Coalesce(Answer(merged), segs, null).Code, Is.EqualTo(1));
        // A coalescer keeps one header: one option for three segments is "some".
        Assert.That(ProbeClassifier.Coalesce(Answer(merged), segs, 8).Code, Is.EqualTo(2));
        var mpd = Enumerable.Range(0, 3).Select(i => new LegacyMpDataOption(1 + (uint)(i * 100), 100, 1 + (uint)(i * 100))).ToArray();
        var allKept = merged with { Options = [mpd[0], mpd[1], mpd[2]] };
        Assert.That(ProbeClassifier.Coalesce(Answer(allKept), segs, 31).Code, Is.EqualTo(1), "every option carried over");
        Assert.That(ProbeClassifier.Coalesce(Answer(merged with { Options = [] }), segs, 8).Code, Is.EqualTo(3));
        var two = segs[0] with { Payload = segs.Take(2).SelectMany(s => s.Payload.ToArray()).ToArray() };
        var mixed = Answer(two).Concat(Answer(segs[2])).ToList();
        Assert.That(ProbeClassifier.Coalesce(mixed, segs, null).Code, Is.EqualTo(1));
        Assert.That(ProbeClassifier.Coalesce(mixed, segs, 8).Code, Is.EqualTo(2));
        Assert.That(ProbeClassifier.Coalesce(Answer(two with { Options = [] }).Concat(Answer(segs[2])).ToList(), segs, 8).Code, Is.EqualTo(3));
        Assert.That(ProbeClassifier.Coalesce([], segs, null).Code, Is.EqualTo(7));
    }

    [Test]
    public void PseudoRtxCodes()
    {
        var original = Seg(TcpFlags.Ack, 252102, 1, ProbeSuite.Payload(100, 0xb2, 0x40));
        var again = original with { Payload = ProbeSuite.Payload(100, 0xa1, 0x90) };
        Assert.That(ProbeClassifier.PseudoRtx(Answer(again), original, again).Code, Is.EqualTo(0));
        // A normaliser replays the first transmission's bytes (with the echo command so we see it).
        var oldBytes = original with { Payload = ProbeSuite.Payload(100, 0xa1, 0x40) };
        var origEcho = original with { Payload = oldBytes.Payload };
        Assert.That(ProbeClassifier.PseudoRtx(Answer(oldBytes), origEcho, again).Code, Is.EqualTo(3));
        var longer = original with { Payload = ProbeSuite.Payload(116, 0xa1, 0x90) };
        Assert.That(ProbeClassifier.PseudoRtx(Answer(again), original, longer).Code, Is.EqualTo(4));
        Assert.That(ProbeClassifier.PseudoRtx([Seg(TcpFlags.Ack, 1, 252202)], original, again).Code, Is.EqualTo(2));
        Assert.That(ProbeClassifier.PseudoRtx([Seg(TcpFlags.Rst, 1, 0)], original, again).Code, Is.EqualTo(5));
        Assert.That(ProbeClassifier.PseudoRtx([], original, again).Code, Is.EqualTo(1));
    }

    [Test]
    public void HoleCodes()
    {
        var sent = Seg(TcpFlags.Ack, 252514, 0xabcdf0, ProbeSuite.Payload(512, 0xa1, 0));
        Assert.That(ProbeClassifier.Hole(Answer(sent), sent, false).Code, Is.EqualTo(0));
        Assert.That(ProbeClassifier.Hole(Answer(sent with { Sequence = 252002 }), sent, false).Code, Is.EqualTo(2));
        Assert.That(ProbeClassifier.Hole(Answer(sent with { Acknowledgment = 5 }), sent, true).Code, Is.EqualTo(2));
        Assert.That(ProbeClassifier.Hole([], sent, true).Code, Is.EqualTo(1));
        Assert.That(ProbeClassifier.Hole([Seg(TcpFlags.Rst, 0, 0)], sent, true).Code, Is.EqualTo(3));
        // A path that shifts every seq by 1000 moves the hole with it: untouched once the shift is undone.
        var shifted = Answer(sent with { Sequence = sent.Sequence + 1000 });
        Assert.That(ProbeClassifier.Hole(shifted, sent, false).Code, Is.EqualTo(2), "without the shift");
        Assert.That(ProbeClassifier.Hole(shifted, sent, false, 1000).Code, Is.EqualTo(0), "with the shift");
        Assert.That(ProbeClassifier.Hole(Answer(sent with { Sequence = 252002 + 1000 }), sent, false, 1000).Code, Is.EqualTo(2), "corrected under a shift");
        Assert.That(ProbeClassifier.Hole(Answer(sent with { Acknowledgment = sent.Acknowledgment - 7 }), sent, true, -7).Code, Is.EqualTo(0));
    }

    [Test]
    public void HttpEchoParsesLikeAPlainOne()
    {
        var sent = Seg(TcpFlags.Ack, 1, 2, ProbeSuite.Payload(64, 0xa3, 0));
        var e = ProbeClassifier.Echoes(Answer(sent)).Single().Echo;
        Assert.That(e.Received.Sequence.Value, Is.EqualTo(1u));
        Assert.That(e.ReceivedPayloadLength, Is.EqualTo(64));
    }

    [Test]
    public void EveryCodeOfEveryTestHasAMeaning()
    {
        foreach (var t in ProbeTests.All)
            Assert.That(ProbeTests.Meaning(t, 0), Is.Not.EqualTo("unknown code"), t);
    }
}
