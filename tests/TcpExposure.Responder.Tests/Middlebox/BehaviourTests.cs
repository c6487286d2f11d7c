using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Middlebox;
using static TcpExposure.Responder.Tests.Middlebox.Seg;

namespace TcpExposure.Responder.Tests.Middlebox;

public class OptionBehaviourTests
{
    private static readonly TcpOption Mp = new LegacyMpCapableOption(0xA1B2C3D4, 0x0102030405060708);

    [Test]
    public void StripRemovesTheKindAndKeepsTheRestInOrder()
    {
        var syn = ToServer(TcpFlags.Syn, 1, options: [new MssOption(512), Mp, new WindowScaleOption(2)]);
        var out1 = Run(new OptionBehaviour(30, OptionAction.Strip, OptionScope.Syn), syn);
        var expected = syn with { Options = [new MssOption(512), new WindowScaleOption(2)] };
        Assert.That(Wire(out1.Single().Segment), Is.EqualTo(Wire(expected)));
        Assert.That(Reparsed(out1[0].Segment).HasOption(30), Is.False);
    }

    [Test]
    public void NopOverwritesTheOptionKeepingTheHeaderLengthLikeTcpoptstrip()
    {
        var syn = ToServer(TcpFlags.Syn, 1, options: [new MssOption(512), Mp]);
        var got = Run(new OptionBehaviour(30, OptionAction.Nop, OptionScope.Syn), syn).Single().Segment;
        var expected = syn with { Options = [new MssOption(512), .. Enumerable.Range(0, 14).Select(_ => new NopOption())] };
        Assert.That(Wire(got), Is.EqualTo(Wire(expected)));
        Assert.That(got.TcpHeaderLength, Is.EqualTo(syn.TcpHeaderLength));
        Assert.That(Reparsed(got).HasOption(30), Is.False);
    }

    [Test]
    public void ZeroKeepsKindAndLengthAndClearsTheData()
    {
        var syn = ToServer(TcpFlags.Syn, 1, options: [Mp]);
        var got = Reparsed(Run(new OptionBehaviour(30, OptionAction.Zero, OptionScope.Both), syn).Single().Segment);
        Assert.That(got.Options[0].ToBytes(), Is.EqualTo(new byte[] { 30, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }));
        Assert.That(got.TcpHeaderLength, Is.EqualTo(syn.TcpHeaderLength));
    }

    [Test]
    public void ModifyFlipsEveryDataByte()
    {
        var syn = ToServer(TcpFlags.Syn, 1, options: [Mp]);
        var got = Reparsed(Run(new OptionBehaviour(30, OptionAction.Modify, OptionScope.Syn), syn).Single().Segment);
        var original = Mp.ToBytes();
        Assert.That(got.Options[0].ToBytes(), Is.EqualTo(original.Select((b, i) => i < 2 ? b : (byte)(b ^ 0x5A)).ToArray()));
    }

    [Test]
    public void ScopeDecidesWhichSegmentsAreTouchedAndBothDirectionsAre()
    {
        var syn = ToServer(TcpFlags.Syn, 1, options: [Mp]);
        var data = ToServer(TcpFlags.Ack, 2, 1, 10, options: [Mp]);
        var synOnly = new OptionBehaviour(30, OptionAction.Strip, OptionScope.Syn);
        Assert.That(Run(synOnly, data).Single().Segment, Is.SameAs(data));
        var dataOnly = new OptionBehaviour(30, OptionAction.Strip, OptionScope.Data);
        Assert.That(Run(dataOnly, syn).Single().Segment, Is.SameAs(syn));
        Assert.That(Run(dataOnly, data).Single().Segment.HasOption(30), Is.False);
        var synAck = ToClient(TcpFlags.Syn | TcpFlags.Ack, 100, 2, options: [Mp]);
        var back = Run(synOnly, synAck, MiddleboxDirection.ToClient).Single();
        Assert.That(back.Direction, Is.EqualTo(MiddleboxDirection.ToClient));
        Assert.That(back.Segment.HasOption(30), Is.False);
        Assert.That(synOnly.Changed, Is.EqualTo(1));
    }

    [Test]
    public void MalformedOptionsAndOtherKindsPassUntouched()
    {
        var bytes = ToServer(TcpFlags.Syn, 1, options: [new RawOption(30, new byte[] { 1, 2 }) { DeclaredLengthOverride = 40 }]).ToArray();
        var parsed = SegmentParser.Parse(bytes).Segment!;
        var got = Run(new OptionBehaviour(30, OptionAction.Strip, OptionScope.Both), parsed).Single().Segment;
        Assert.That(Wire(got), Is.EqualTo(bytes));
    }

    [Test]
    public void ABadChecksumIsFixedWhenTheSegmentIsRewritten()
    {
        var bad = ToServer(TcpFlags.Syn, 1, options: [Mp]).WithWrongChecksum();
        var got = Run(new OptionBehaviour(30, OptionAction.Zero, OptionScope.Both), bad).Single().Segment;
        Assert.That(SegmentParser.Parse(got.ToArray()).Problems, Is.EqualTo(ParseProblems.None));
    }
}

public class SequenceOffsetBehaviourTests
{
    [Test]
    public void SeqGrowsTowardTheServerAckAndSackShrinkTowardTheClient()
    {
        var b = new SequenceOffsetBehaviour(1000);
        var syn = ToServer(TcpFlags.Syn, 252001);
        Assert.That(Wire(Run(b, syn).Single().Segment), Is.EqualTo(Wire(syn with { Sequence = 253001 })));

        var ack = ToClient(TcpFlags.Ack, 77, 253002, options: [new SackOption(new SackBlock(253102, 253202), new SackBlock(253302, 253402))]);
        var got = Run(b, ack, MiddleboxDirection.ToClient).Single().Segment;
        var expected = ack with { Acknowledgment = 252002, Options = [new SackOption(new SackBlock(252102, 252202), new SackBlock(252302, 252402))] };
        Assert.That(Wire(got), Is.EqualTo(Wire(expected)));
        Assert.That(got.Sequence.Value, Is.EqualTo(77u), "the server's own numbers are not touched");
    }

    [Test]
    public void OffsetsWrapAroundAndAckWithoutTheFlagIsLeftAlone()
    {
        var b = new SequenceOffsetBehaviour(unchecked((int)0xFFFFFF00));
        Assert.That(Run(b, ToServer(TcpFlags.Syn, 0x200)).Single().Segment.Sequence.Value, Is.EqualTo(0x100u));
        var rst = ToClient(TcpFlags.Rst, 5, 1234);
        Assert.That(Run(b, rst, MiddleboxDirection.ToClient).Single().Segment.Acknowledgment.Value, Is.EqualTo(1234u));
    }

    [Test]
    public void TheSpecParserAcceptsUnsignedAndNegativeOffsets()
    {
        Assert.That(((SequenceOffsetBehaviour)MiddleboxSpec.ParseOne("seq-offset:4294967295")).Offset, Is.EqualTo(-1));
        Assert.That(((SequenceOffsetBehaviour)MiddleboxSpec.ParseOne("seq-offset:-5")).Offset, Is.EqualTo(-5));
    }
}

public class SplitBehaviourTests
{
    [TestCase(SplitOptions.All, new[] { true, true, true })]
    [TestCase(SplitOptions.First, new[] { true, false, false })]
    [TestCase(SplitOptions.None, new[] { false, false, false })]
    public void SplitsAtNBytesWithTheOptionsWhereAsked(SplitOptions mode, bool[] withOptions)
    {
        var data = ToServer(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin, 5000, 9, 600, options: [new TimestampsOption(1, 2)]);
        var got = Run(new SplitBehaviour(256, mode), data).Select(r => Reparsed(r.Segment)).ToList();
        Assert.That(got.Select(s => s.Sequence.Value), Is.EqualTo(new uint[] { 5000, 5256, 5512 }));
        Assert.That(got.Select(s => s.Payload.Length), Is.EqualTo(new[] { 256, 256, 88 }));
        Assert.That(got.SelectMany(s => s.Payload.ToArray()), Is.EqualTo(data.Payload.ToArray()));
        Assert.That(got.Select(s => s.Flags), Is.EqualTo(new[] { TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin }));
        Assert.That(got.Select(s => s.HasOption(TcpOptionKind.Timestamps)), Is.EqualTo(withOptions));
        Assert.That(got.All(s => s.Acknowledgment.Value == 9), Is.True);
    }

    [Test]
    public void SmallSegmentsSynsAndTheWayBackAreNotSplit()
    {
        var b = new SplitBehaviour(256, SplitOptions.All);
        var small = ToServer(TcpFlags.Ack, 1, 1, 256);
        Assert.That(Run(b, small).Single().Segment, Is.SameAs(small));
        var back = ToClient(TcpFlags.Ack, 1, 1, 1000);
        Assert.That(Run(b, back, MiddleboxDirection.ToClient).Single().Segment, Is.SameAs(back));
        Assert.That(b.Split, Is.Zero);
    }
}

public class CoalesceBehaviourTests
{
    [Test]
    public void ContiguousSegmentsAreHeldAndMergedUntilFlushed()
    {
        var b = new CoalesceBehaviour(TimeSpan.FromMilliseconds(50));
        var ts = new TimestampsOption(7, 8);
        var a = ToServer(TcpFlags.Ack, 1000, 5, 100, options: [ts]);
        var c = ToServer(TcpFlags.Ack, 1100, 6, 100, options: [new TimestampsOption(9, 9)]);
        var d = ToServer(TcpFlags.Ack | TcpFlags.Psh, 1200, 7, 100);
        Assert.That(Run(b, a), Is.Empty);
        Assert.That(b.HoldTime, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
        Assert.That(Run(b, c), Is.Empty);
        Assert.That(Run(b, d), Is.Empty);
        var output = new List<RoutedSegment>();
        b.Flush(output);
        var merged = Reparsed(output.Single().Segment);
        var expected = a with { Payload = a.Payload.ToArray().Concat(c.Payload.ToArray()).Concat(d.Payload.ToArray()).ToArray(), Acknowledgment = 7, Flags = TcpFlags.Ack | TcpFlags.Psh };
        Assert.That(Wire(merged), Is.EqualTo(Wire(expected)));
        Assert.That(b.HoldTime, Is.Null);
        Assert.That(b.Merged, Is.EqualTo(2));
    }

    [Test]
    public void AGapAControlSegmentOrTheSizeLimitReleasesWhatIsHeld()
    {
        var b = new CoalesceBehaviour(TimeSpan.FromMilliseconds(50), maxBytes: 150);
        var a = ToServer(TcpFlags.Ack, 1000, 1, 100);
        var gap = ToServer(TcpFlags.Ack, 1200, 1, 100);
        Assert.That(Run(b, a), Is.Empty);
        Assert.That(Run(b, gap).Select(r => r.Segment), Is.EqualTo(new[] { a }), "a gap: the held one leaves, the new one is held");
        var tooBig = ToServer(TcpFlags.Ack, 1300, 1, 100);
        Assert.That(Run(b, tooBig).Select(r => r.Segment), Is.EqualTo(new[] { gap }), "100 + 100 > 150");
        var fin = ToServer(TcpFlags.Ack | TcpFlags.Fin, 1400, 1);
        Assert.That(Run(b, fin).Select(r => r.Segment), Is.EqualTo(new[] { tooBig, fin }));
        var otherFlow = ToServer(TcpFlags.Ack, 1, 1, 10, port: 40001);
        var back = ToClient(TcpFlags.Ack, 1, 1, 10);
        Assert.That(Run(b, back, MiddleboxDirection.ToClient).Single().Segment, Is.SameAs(back));
        Assert.That(Run(b, otherFlow), Is.Empty);
    }

    [Test]
    public void ThePipelineFlushesThroughTheBehavioursAfterIt()
    {
        var pipeline = new MiddleboxPipeline([new CoalesceBehaviour(TimeSpan.FromMilliseconds(10)), new SequenceOffsetBehaviour(10)]);
        Assert.That(pipeline.Process(ToServer(TcpFlags.Ack, 100, 1, 10), MiddleboxDirection.ToServer), Is.Empty);
        Assert.That(pipeline.Process(ToServer(TcpFlags.Ack, 110, 1, 10), MiddleboxDirection.ToServer), Is.Empty);
        Assert.That(pipeline.HoldTime, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
        var flushed = pipeline.Flush().Single().Segment;
        Assert.That(flushed.Sequence.Value, Is.EqualTo(110u));
        Assert.That(flushed.Payload.Length, Is.EqualTo(20));
    }
}

public class ProxyAckBehaviourTests
{
    [Test]
    public void AnAckFromTheServersAddressPrecedesTheData()
    {
        var b = new ProxyAckBehaviour();
        Run(b, ToClient(TcpFlags.Syn | TcpFlags.Ack, 500, 101), MiddleboxDirection.ToClient);
        var data = ToServer(TcpFlags.Ack | TcpFlags.Psh, 101, 501, 300);
        var got = Run(b, data);
        Assert.That(got, Has.Count.EqualTo(2));
        Assert.That(got[1].Segment, Is.SameAs(data));
        Assert.That(got[0].Direction, Is.EqualTo(MiddleboxDirection.ToClient));
        var ack = Reparsed(got[0].Segment);
        Assert.That((ack.Ip.Source, ack.Ip.Destination, ack.SourcePort, ack.DestinationPort), Is.EqualTo((Srv, Cli, (ushort)80, (ushort)40000)));
        Assert.That((ack.Sequence.Value, ack.Acknowledgment.Value, ack.Flags, ack.Window, ack.Payload.Length),
            Is.EqualTo((501u, 401u, TcpFlags.Ack, (ushort)32768, 0)));
    }

    [Test]
    public void PureAcksAndSynsAreNotAcknowledged()
    {
        var b = new ProxyAckBehaviour();
        Assert.That(Run(b, ToServer(TcpFlags.Syn, 1)), Has.Count.EqualTo(1));
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 2, 1)), Has.Count.EqualTo(1));
        Assert.That(b.Acks, Is.Zero);
    }
}

public class WindowAndHoleBehaviourTests
{
    [Test]
    public void TheWindowIsRewrittenTowardTheServerOnly()
    {
        var b = new WindowBehaviour(4096);
        var s = ToServer(TcpFlags.Ack, 1, 1, 10);
        Assert.That(Wire(Run(b, s).Single().Segment), Is.EqualTo(Wire(s with { Window = 4096 })));
        var back = ToClient(TcpFlags.Ack, 1, 1);
        Assert.That(Run(b, back, MiddleboxDirection.ToClient).Single().Segment.Window, Is.EqualTo((ushort)32768));
    }

    [Test]
    public void SegmentsStartingBeyondTheHighestSeenAreDropped()
    {
        var b = new DropBeyondHoleBehaviour();
        Assert.That(Run(b, ToServer(TcpFlags.Syn, 100)), Has.Count.EqualTo(1));
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 101, 1, 50)), Has.Count.EqualTo(1));
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 201, 1, 50)), Is.Empty, "151..200 missing");
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 151, 1, 50)), Has.Count.EqualTo(1), "fills the hole");
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 201, 1, 50)), Has.Count.EqualTo(1), "now in order");
        Assert.That(Run(b, ToServer(TcpFlags.Ack, 101, 1, 50)), Has.Count.EqualTo(1), "a retransmission passes");
        Assert.That(b.Dropped, Is.EqualTo(1));
        Assert.That(Run(b, ToServer(TcpFlags.Rst, 251)), Has.Count.EqualTo(1));
        Assert.That(b.Flows, Is.Zero);
    }
}

public class MiddleboxSpecTests
{
    [Test]
    public void EveryFormParses()
    {
        var list = MiddleboxSpec.Parse("strip:30:syn, nop:30, zero:30, modify:8:data,seq-offset:1000,split:256:first,coalesce:20:500,proxy-ack,window:4096,drop-beyond-hole,none");
        Assert.That(list.Select(b => b.Spec), Is.EqualTo(new[]
        {
            "strip:30:syn", "nop:30:both", "zero:30:both", "modify:8:data", "seq-offset:1000", "split:256:first", "coalesce:20:500", "proxy-ack", "window:4096", "drop-beyond-hole",
        }));
    }

    [TestCase("strip")]
    [TestCase("strip:1")]
    [TestCase("strip:30:sometimes")]
    [TestCase("split:0")]
    [TestCase("window:70000")]
    [TestCase("seq-offset:x")]
    [TestCase("proxy-ack:3")]
    [TestCase("teleport")]
    public void BadSpecsSaySo(string spec) =>
        Assert.That(() => MiddleboxSpec.Parse(spec), Throws.TypeOf<FormatException>().With.Message.Contains(spec.Split(':')[0]));
}
