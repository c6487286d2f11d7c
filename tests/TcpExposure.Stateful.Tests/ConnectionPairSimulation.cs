using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// Two <see cref="TcpConnection"/>s wired back to back without the stack: fully deterministic
/// (one thread, one virtual clock, a fixed one-way delay), so runs are exactly repeatable.
/// </summary>
internal sealed class ConnectionPairSimulation
{
    private sealed record Packet(TimeSpan Arrival, bool ToServer, uint Seq, uint Ack, TcpFlags Flags, ushort Window, SegmentOptions Options, byte[] Payload);

    private sealed class Sink(ConnectionPairSimulation sim, bool toServer) : ISegmentSink
    {
        public void Send(in OutgoingSegment s)
        {
            long n = toServer ? ++sim._sentToServer : ++sim._sentToClient;
            sim.Trace?.Invoke($"{sim.Now.TotalMilliseconds,8:0.0} {(toServer ? "C>" : "S>")} {s.Flags} seq {s.Sequence.Value} ack {s.Acknowledgment.Value} len {s.PayloadLength} sacks {string.Join(",", s.Options.Sacks.ToArray().Select(b => $"{b.Left.Value}-{b.Right.Value}"))} {(sim.LossToServer.Drop(0) ? "" : "")}");
            var loss = toServer ? sim.LossToServer : sim.LossToClient;
            if (loss.Drop(n))
            {
                sim.Dropped++;
                return;
            }
            var payload = new byte[s.PayloadLength];
            s.Payload1.CopyTo(payload);
            s.Payload2.CopyTo(payload.AsSpan(s.Payload1.Length));
            sim._inFlight.Add(new Packet(sim.Now + sim.OneWayDelay, toServer, s.Sequence.Value, s.Acknowledgment.Value, s.Flags, s.Window, s.Options, payload));
        }
    }

    private readonly List<Packet> _inFlight = [];
    private long _sentToServer, _sentToClient;
    public TimeSpan Now;
    public TimeSpan OneWayDelay = TimeSpan.FromMilliseconds(5);
    public ILossModel LossToServer = new NoLoss(), LossToClient = new NoLoss();
    public long Dropped;
    public Action<string>? Trace;
    public readonly TcpConnection Client, Server;

    public ConnectionPairSimulation(TcpConfig config)
    {
        Client = new TcpConnection(config, new Sink(this, toServer: true), 100);
        Server = new TcpConnection(config, new Sink(this, toServer: false), 900_000);
        Server.Listen();
    }

    /// <summary>Runs until <paramref name="done"/> or <paramref name="limit"/>; <paramref name="app"/> runs after every event.</summary>
    public void Run(Func<bool> done, Action app, TimeSpan limit)
    {
        app();
        while (!done())
        {
            TimeSpan? next = null;
            foreach (var p in _inFlight)
                if (next is null || p.Arrival < next) next = p.Arrival;
            foreach (var d in new[] { Client.NextDeadline, Server.NextDeadline })
                if (d is { } t && (next is null || t < next)) next = t;
            if (next is null || next > limit)
                Assert.Fail($"Stuck or over the limit at {Now} (client {Client.State}, server {Server.State}).");
            Now = next!.Value;
            var due = _inFlight.Where(p => p.Arrival <= Now).ToList();
            _inFlight.RemoveAll(p => p.Arrival <= Now);
            foreach (var p in due)
            {
                var seg = new IncomingSegment(p.Seq, p.Ack, p.Flags, p.Window, p.Options, p.Payload);
                (p.ToServer ? Server : Client).Process(seg, Now);
            }
            if (Client.NextDeadline <= Now) Client.Poll(Now);
            if (Server.NextDeadline <= Now) Server.Poll(Now);
            app();
        }
    }
}
