using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using TcpExposure.Craft.Transport;
using TcpExposure.Responder.Probe;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Responder.Tests.Probe;

/// <summary>A wire with the responder core at the far end, and a hook to play middlebox on the way there.</summary>
internal sealed class ResponderWire(ResponderConfig config, Func<byte[], byte[]?>? toServer = null) : IPacketTransport
{
    private readonly Channel<byte[]> _answers = Channel.CreateUnbounded<byte[]>();
    private readonly byte[] _out = new byte[4096];

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        var p = packet.ToArray();
        if (toServer is not null && (p = toServer(p)!) is null)
            return ValueTask.CompletedTask;
        lock (_out)
        {
            var r = StatelessResponder.Respond(p, _out, config);
            if (r.FirstLength > 0) _answers.Writer.TryWrite(_out[..r.FirstLength]);
            if (r.SecondLength > 0) _answers.Writer.TryWrite(_out[r.FirstLength..r.TotalLength]);
        }
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var p = await _answers.Reader.ReadAsync(cancellationToken);
        p.CopyTo(buffer);
        return new ReceivedPacket(p.Length, DateTimeOffset.UtcNow);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public sealed class ProbeSuiteLoopbackTests
{
    private static readonly IPEndPoint Target = new(IPAddress.Parse("10.2.0.2"), 8080);

    private static ProbeOptions Options(params string[] tests) => new()
    {
        Target = Target, Source = IPAddress.Parse("10.1.0.2"), RstGuard = false,
        Timeout = TimeSpan.FromMilliseconds(60), Tests = tests.Length == 0 ? null : tests,
    };

    [Test]
    public async Task EveryTestIsUnchangedAgainstTheResponderCore()
    {
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address));
        var report = await ProbeSuite.RunAsync(wire, Options());
        Assert.That(report.Results.Select(r => r.Test), Is.EqualTo(ProbeTests.All));
        Assert.That(report.Results.Where(r => r.Code != 0).Select(r => $"{r.Test}={r.Code} {r.Evidence}"), Is.Empty);
        Assert.That(report.Results.Where(r => r.Runs > 0), Has.All.Property(nameof(ProbeResult.Runs)).EqualTo(2));
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.That(json.RootElement.GetProperty("results").GetArrayLength(), Is.EqualTo(ProbeTests.All.Count));
        Assert.That(report.ToTable(), Does.Contain("ChangeIncomingSeq").And.Contain("option kept"));
    }

    [Test]
    public async Task NoResponderStopsTheRunAfterSyn()
    {
        var wire = new ResponderWire(ResponderConfig.For(9999));
        var report = await ProbeSuite.RunAsync(wire, Options());
        Assert.That(report.StoppedEarly, Does.StartWith("Syn is 1"));
        Assert.That(report.Results.Select(r => r.Test), Is.EqualTo(new[] { ProbeTests.Syn, ProbeTests.UnexpAwnd }));
    }

    [Test]
    public async Task ASequenceRewritingMiddleboxIsSeen()
    {
        // Adds 1000 to the sequence number of every data segment toward the server.
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address), p =>
        {
            var s = Craft.Packets.SegmentParser.Parse(p).Segment!;
            return s.Payload.Length == 0 ? p : (s with { Sequence = s.Sequence + 1000, Checksum = null }).ToArray();
        });
        var report = await ProbeSuite.RunAsync(wire, Options(ProbeTests.Data, ProbeTests.ChangeSeq, ProbeTests.ChangeAwnd));
        Assert.That(report[ProbeTests.ChangeSeq]!.Code, Is.EqualTo(1));
        Assert.That(report[ProbeTests.ChangeSeq]!.Evidence, Does.Contain("offset 1000"));
        Assert.That(report[ProbeTests.ChangeAwnd]!.Code, Is.EqualTo(0));
    }

    [Test]
    public async Task RunsThatDisagreeAreRepeatedAndALostAnswerIsRetried()
    {
        // Drops every other SYN: Syn goes 1, 0, 1, 0. The second "no answer" does not agree with
        // the first, since a run got an answer in between: the fourth run agrees with the second.
        int syns = 0;
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address), p =>
            Craft.Packets.SegmentParser.Parse(p).Segment!.Flags == Craft.Wire.TcpFlags.Syn && syns++ % 2 == 0 ? null : p);
        var report = await ProbeSuite.RunAsync(wire, Options(ProbeTests.Syn));
        Assert.That(report[ProbeTests.Syn]!.Runs, Is.EqualTo(4));
        Assert.That(report[ProbeTests.Syn]!.Code, Is.EqualTo(0));
        Assert.That(report[ProbeTests.Syn]!.Agreed, Is.True);
    }

    [Test]
    public async Task ALostHandshakeIsRetriedWithinTheRun()
    {
        // Every other SYN is lost: each test's handshake needs its second SYN, and no run fails for it.
        int syns = 0;
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address), p =>
            Craft.Packets.SegmentParser.Parse(p).Segment!.Flags == Craft.Wire.TcpFlags.Syn && syns++ % 2 == 0 ? null : p);
        var report = await ProbeSuite.RunAsync(wire, Options(ProbeTests.Data, ProbeTests.CoalesceOpt));
        Assert.That(report.Results.Select(r => (r.Test, r.Code, r.Runs)), Is.EqualTo(new[] { (ProbeTests.Data, 0, 2), (ProbeTests.CoalesceOpt, 0, 2) }));
        Assert.That(syns, Is.EqualTo(8));
    }

    [Test]
    public async Task APathThatNeverAnswersAgreesOnNoAnswer()
    {
        // Every data segment beyond a hole is dropped: SeqHole's "no answer" is the verdict, in two runs.
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address), p =>
        {
            var s = Craft.Packets.SegmentParser.Parse(p).Segment!;
            return s.Payload.Length > 0 && s.Sequence.Value != 252002 ? null : p;
        });
        var report = await ProbeSuite.RunAsync(wire, Options(ProbeTests.Data, ProbeTests.SeqHole, ProbeTests.AckHole));
        Assert.That((report[ProbeTests.SeqHole]!.Code, report[ProbeTests.SeqHole]!.Runs), Is.EqualTo((1, 2)));
        Assert.That(report[ProbeTests.AckHole]!.Code, Is.EqualTo(0));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task TheHoleTestsUndoTheShiftOfASequenceRewriter(bool withData)
    {
        // Every segment's seq shifted by 1000 toward the server: the hole moves with the rest, so
        // SeqHole is 0 -- whether Data ran before (and measured the shift) or the suite measures it.
        var wire = new ResponderWire(ResponderConfig.For(8080, Target.Address), p =>
        {
            var s = Craft.Packets.SegmentParser.Parse(p).Segment!;
            return (s with { Sequence = s.Sequence + 1000, Checksum = null }).ToArray();
        });
        string[] tests = withData ? [ProbeTests.Data, ProbeTests.ChangeSeq, ProbeTests.SeqHole, ProbeTests.AckHole] : [ProbeTests.SeqHole, ProbeTests.AckHole];
        var report = await ProbeSuite.RunAsync(wire, Options(tests));
        Assert.That(report[ProbeTests.SeqHole]!.Code, Is.EqualTo(0), report[ProbeTests.SeqHole]!.Evidence);
        Assert.That(report[ProbeTests.SeqHole]!.Evidence, Does.Contain("+1000"));
        Assert.That(report[ProbeTests.AckHole]!.Code, Is.EqualTo(0));
        Assert.That(report.Results.Select(r => r.Test), Is.EqualTo(tests), "the measurement adds no result");
    }
}
