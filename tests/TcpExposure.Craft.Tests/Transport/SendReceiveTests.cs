using System.Buffers.Binary;
using System.Net;
using System.Threading.Channels;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Transport;

/// <summary>An in-memory transport: what is sent goes to a responder, whose packets come back as received.</summary>
internal sealed class FakeTransport(TimeProvider time, Func<byte[], IEnumerable<byte[]>>? responder = null) : IPacketTransport
{
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>();
    public List<byte[]> Sent { get; } = [];

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        var bytes = packet.ToArray();
        Sent.Add(bytes);
        foreach (var reply in responder?.Invoke(bytes) ?? [])
            Inject(reply);
        return ValueTask.CompletedTask;
    }

    public void Inject(byte[] packet) => _incoming.Writer.TryWrite(packet);

    public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var p = await _incoming.Reader.ReadAsync(cancellationToken);
        int n = Math.Min(p.Length, buffer.Length);
        p.AsSpan(0, n).CopyTo(buffer.Span);
        return new ReceivedPacket(n, time.GetUtcNow(), n < p.Length);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class SendReceiveTests
{
    private static readonly IPEndPoint Us = new(IPAddress.Parse("192.0.2.1"), 40000);
    private static readonly IPEndPoint Them = new(IPAddress.Parse("192.0.2.2"), 80);

    private static TcpSegment Syn(int sport = 40000) => TcpSegment.Create(new IPEndPoint(Us.Address, sport), Them, TcpFlags.Syn) with { Sequence = 100 };

    /// <summary>The kernel-like answer to <paramref name="packet"/>: SYN -> SYN-ACK, else RST.</summary>
    private static byte[] AnswerTo(byte[] packet, TcpFlags? flags = null, byte ttl = 64)
    {
        var s = SegmentParser.Parse(packet).Segment!;
        var reply = TcpSegment.Create(new IPEndPoint(s.Ip.Destination, s.DestinationPort), new IPEndPoint(s.Ip.Source, s.SourcePort),
            flags ?? (s.Flags.Has(TcpFlags.Syn) ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Rst)) with
        {
            Sequence = 5000,
            Acknowledgment = s.Sequence + s.SequenceLength,
            Options = [new MssOption(1460)],
        };
        reply = reply with { Ip = ((Ipv4Header)reply.Ip) with { Ttl = ttl } };
        return reply.ToArray();
    }

    /// <summary>An ICMP destination unreachable quoting the IP header and first 8 TCP bytes of <paramref name="packet"/>.</summary>
    private static byte[] IcmpUnreachable(byte[] packet, IPAddress from, byte code = 13)
    {
        int quoted = 28;
        var icmp = new byte[8 + quoted];
        icmp[0] = 3;
        icmp[1] = code;
        packet.AsSpan(0, quoted).CopyTo(icmp.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Compute(icmp));
        var ip = new Ipv4Header { Source = from, Destination = Us.Address, Protocol = 1 };
        var bytes = new byte[20 + icmp.Length];
        ip.Write(bytes, icmp.Length);
        icmp.CopyTo(bytes.AsSpan(20));
        return bytes;
    }

    [Test]
    public async Task SynAckStopsTheExchangeAndIsMatchedToItsSegment()
    {
        var t = new FakeTransport(TimeProvider.System, p => [AnswerTo(Syn(40001).ToArray()), AnswerTo(p)]); // noise first
        var r = await SendReceive.RunAsync(t, [Syn()], new() { Timeout = TimeSpan.FromSeconds(30), Until = StopCondition.SynAck });
        Assert.That(r.StoppedEarly, Is.True);
        var a = r.Answers.Single();
        Assert.That(a.SentIndex, Is.EqualTo(0));
        Assert.That(a.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
        Assert.That(a.Flow.SourcePort, Is.EqualTo(80));
        Assert.That(r.PacketsSeen, Is.EqualTo(2));
    }

    [Test]
    public async Task AnswersToLaterSegmentsCountUnlessOnlyTheFirstIsMatched()
    {
        var segments = new[] { Syn(40000), Syn(40002) };
        var tolerant = await SendReceive.RunAsync(new FakeTransport(TimeProvider.System, p => [AnswerTo(p)]), segments,
            new() { Timeout = TimeSpan.FromMilliseconds(50) });
        Assert.That(tolerant.Answers.Select(a => a.SentIndex), Is.EqualTo(new[] { 0, 1 }));

        var strict = await SendReceive.RunAsync(new FakeTransport(TimeProvider.System, p => [AnswerTo(p)]), segments,
            new() { Timeout = TimeSpan.FromMilliseconds(50), MatchAnySent = false });
        Assert.That(strict.Answers.Select(a => a.SentIndex), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public async Task TtlOneAnswersAreIgnoredWhenAsked()
    {
        var r = await SendReceive.RunAsync(new FakeTransport(TimeProvider.System, p => [AnswerTo(p, ttl: 1), AnswerTo(p, TcpFlags.Rst | TcpFlags.Ack)]), [Syn()],
            new() { Timeout = TimeSpan.FromSeconds(30), IgnoreTtlOne = true, Until = StopCondition.Any });
        Assert.That(r.Answers.Single().Flags, Is.EqualTo(TcpFlags.Rst | TcpFlags.Ack));
    }

    [Test]
    public async Task IcmpErrorIsMatchedOnTheQuotedSegment()
    {
        var router = IPAddress.Parse("198.51.100.1");
        var segments = new[] { Syn(40000), Syn(40005) };
        var t = new FakeTransport(TimeProvider.System, p => BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(20)) == 40005 ? [IcmpUnreachable(p, router)] : []);
        var r = await SendReceive.RunAsync(t, segments, new() { Timeout = TimeSpan.FromSeconds(30), Until = StopCondition.Any });
        var a = r.Answers.Single();
        Assert.Multiple(() =>
        {
            Assert.That(a.IsIcmpError, Is.True);
            Assert.That(a.SentIndex, Is.EqualTo(1));
            Assert.That(a.Icmp!.Reporter, Is.EqualTo(router));
            Assert.That(a.Icmp.Describe(), Is.EqualTo("ICMP 3/13 administratively prohibited from 198.51.100.1"));
            Assert.That(a.Flow.SourcePort, Is.EqualTo(40005));
            Assert.That(a.Segment, Is.Null);
        });
    }

    [Test]
    public void IcmpQuoteCutInsideTheTcpHeaderStillGivesTheFlow()
    {
        var syn = Syn().ToArray();
        Assert.That(FlowKey.TryReadQuoted(syn.AsSpan(0, 24), out var key), Is.True);
        Assert.That(key, Is.EqualTo(FlowKey.TryRead(syn, out var full) ? full : default));
        Assert.That(key.Reversed().Reversed(), Is.EqualTo(key));
        Assert.That(FlowKey.TryReadQuoted(syn.AsSpan(0, 22), out _), Is.False);
        Assert.That(FlowKey.TryReadQuoted([], out _), Is.False);
    }

    [Test]
    public async Task TimeoutRunsOnTheGivenClock()
    {
        var clock = new ManualClock();
        var t = new FakeTransport(clock);
        var run = SendReceive.RunAsync(t, [Syn()], new() { Timeout = TimeSpan.FromSeconds(2), Time = clock });
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(50);
        Assert.That(run.IsCompleted, Is.False, "ended before its timeout");
        t.Inject(AnswerTo(t.Sent[0]));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var r = await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(r.Answers, Has.Count.EqualTo(1));
        Assert.That(r.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(r.StoppedEarly, Is.False);
    }

    [Test]
    public async Task DelaysBeforeSegmentsRunOnTheGivenClock()
    {
        var clock = new ManualClock();
        var t = new FakeTransport(clock);
        var run = SendReceive.RunAsync(t, [OutgoingPacket.From(Syn()), OutgoingPacket.From(Syn(40001), TimeSpan.FromSeconds(1))],
            new() { Timeout = TimeSpan.FromMilliseconds(10), Time = clock });
        await Task.Delay(50);
        Assert.That(t.Sent, Has.Count.EqualTo(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        Assert.That(t.Sent, Has.Count.EqualTo(2));
        clock.Advance(TimeSpan.FromMilliseconds(10));
        var r = await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(r.Sent[1].Timestamp - r.Sent[0].Timestamp, Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task CaptureFileHoldsSentAndReceivedInOrder()
    {
        using var ms = new MemoryStream();
        var syn = Syn();
        await SendReceive.RunAsync(new FakeTransport(TimeProvider.System, p => [AnswerTo(p)]), [syn],
            new() { Timeout = TimeSpan.FromSeconds(30), Until = StopCondition.SynAck, Capture = ms });
        ms.Position = 0;
        var records = PcapReader.Read(ms).ToList();
        Assert.That(records, Has.Count.EqualTo(2));
        Assert.That(records[0].Data.ToArray(), Is.EqualTo(syn.ToArray()));
        Assert.That(SegmentParser.Parse(records[1].Data.Span).Segment!.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
    }

    [Test]
    public async Task FloodVariesTheSourcePortAndKeepsChecksumsRight()
    {
        var t = new FakeTransport(TimeProvider.System);
        var template = Syn(50000).ToArray();
        var flood = new FloodSender(template, rate: 0, count: 1000, sourcePortRange: 300);
        var r = await flood.RunAsync(t);
        Assert.That(r.Sent, Is.EqualTo(1000));
        var ports = t.Sent.Select(p => SegmentParser.Parse(p)).ToList();
        Assert.That(ports.Select(p => p.Problems), Is.All.EqualTo(ParseProblems.None));
        Assert.That(ports.Select(p => (int)p.Segment!.SourcePort), Is.EqualTo(Enumerable.Range(0, 1000).Select(i => 50000 + i % 300)));
    }
}
