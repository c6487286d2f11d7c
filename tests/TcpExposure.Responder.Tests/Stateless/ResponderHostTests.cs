using System.Threading.Channels;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Stateless;
using static TcpExposure.Responder.Tests.Stateless.StatelessResponderTests;

namespace TcpExposure.Responder.Tests.Stateless;

/// <summary>A transport whose wire is two channels the test reads and writes.</summary>
internal sealed class ChannelTransport : IPacketTransport
{
    public Channel<byte[]> Incoming { get; } = Channel.CreateUnbounded<byte[]>();
    public Channel<byte[]> Outgoing { get; } = Channel.CreateUnbounded<byte[]>();

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        Outgoing.Writer.TryWrite(packet.ToArray());
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var p = await Incoming.Reader.ReadAsync(cancellationToken);
        int n = Math.Min(p.Length, buffer.Length);
        p.AsSpan(0, n).CopyTo(buffer.Span);
        return new ReceivedPacket(n, DateTimeOffset.UtcNow, n < p.Length);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public sealed class ResponderHostTests
{
    [Test]
    public async Task AnswersInOrderCountsAndStopsOnCancel()
    {
        var t = new ChannelTransport();
        var lines = new List<string>();
        var host = new ResponderHost(t, Config) { OnAnswer = (_, a, r) => lines.Add($"{r.Count}:{a.Length}") };
        using var cts = new CancellationTokenSource();
        var run = host.RunAsync(cts.Token);
        t.Incoming.Writer.TryWrite(Seg(TcpFlags.Syn, 1, 0).ToArray());
        t.Incoming.Writer.TryWrite([1, 2, 3]);
        t.Incoming.Writer.TryWrite(Seg(TcpFlags.Rst, 1, 0).ToArray());
        t.Incoming.Writer.TryWrite(Seg(TcpFlags.Fin | TcpFlags.Ack, 2, 0xabcdf0).ToArray());
        var synAck = await t.Outgoing.Reader.ReadAsync();
        var ack = await t.Outgoing.Reader.ReadAsync();
        var finAck = await t.Outgoing.Reader.ReadAsync();
        await cts.CancelAsync();
        await run;
        Assert.That(SegmentParser.Parse(synAck).Segment!.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
        Assert.That(SegmentParser.Parse(ack).Segment!.Flags, Is.EqualTo(TcpFlags.Ack));
        Assert.That(SegmentParser.Parse(finAck).Segment!.Flags, Is.EqualTo(TcpFlags.Fin | TcpFlags.Ack));
        Assert.Multiple(() =>
        {
            Assert.That(host.Counters.Received, Is.EqualTo(4));
            Assert.That(host.Counters[ResponderVerdict.Answered], Is.EqualTo(2));
            Assert.That(host.Counters[ResponderVerdict.Reset], Is.EqualTo(1));
            Assert.That(host.Counters[ResponderVerdict.NotTcp], Is.EqualTo(1));
            Assert.That(host.Counters.Sent, Is.EqualTo(3));
            Assert.That(lines, Is.EqualTo(new[] { "1:52", "2:80" }));
            Assert.That(host.Counters.ToString(), Does.StartWith("received 4, answered 2, sent 3"));
        });
    }

    [Test]
    public async Task OwnAnswersSeenByACaptureAreNotAnswered()
    {
        var t = new ChannelTransport();
        var host = new ResponderHost(t, new ResponderConfig { Port = 8080 });
        using var cts = new CancellationTokenSource();
        var run = host.RunAsync(cts.Token);
        var data = Seg(TcpFlags.Ack, 1, 2, [0xa1, 0, 0, 0]).ToArray();
        t.Incoming.Writer.TryWrite(data);
        var echo = await t.Outgoing.Reader.ReadAsync();
        // A capture on both directions hands our answer back; a client on port 8080 makes it look addressed to us.
        var looped = SegmentParser.Parse(echo).Segment! with { DestinationPort = 8080 };
        var bytes = looped.ToArray();
        t.Incoming.Writer.TryWrite(bytes);
        t.Incoming.Writer.TryWrite(Seg(TcpFlags.Syn, 1, 0).ToArray());
        var next = await t.Outgoing.Reader.ReadAsync();
        await cts.CancelAsync();
        await run;
        Assert.That(SegmentParser.Parse(next).Segment!.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
        Assert.That(host.Counters.OwnAnswersSeen, Is.EqualTo(1));
    }
}
