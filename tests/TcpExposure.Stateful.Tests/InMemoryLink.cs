using System.Threading.Channels;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Stateful.Tests;

/// <summary>Decides which packets a link direction loses.</summary>
internal interface ILossModel
{
    bool Drop(long packetNumber);
}

internal sealed class NoLoss : ILossModel
{
    public bool Drop(long packetNumber) => false;
}

/// <summary>Drops every Nth packet (packets N, 2N, ...).</summary>
internal sealed class DropEveryNth(int n) : ILossModel
{
    public bool Drop(long packetNumber) => packetNumber % n == 0;
}

/// <summary>Drops each packet with probability <paramref name="p"/>, from a seeded generator (reproducible).</summary>
internal sealed class RandomLoss(double p, int seed) : ILossModel
{
    private readonly Random _random = new(seed);
    public bool Drop(long packetNumber) { lock (_random) return _random.NextDouble() < p; }
}

/// <summary>Drops everything.</summary>
internal sealed class Blackhole : ILossModel
{
    public bool Drop(long packetNumber) => true;
}

/// <summary>
/// Two <see cref="IPacketTransport"/> ends joined back to back; each direction loses packets per
/// its <see cref="ILossModel"/>. Delivery is immediate (zero delay); time is the test's clock.
/// </summary>
internal sealed class InMemoryLink
{
    public readonly End A, B;
    private long _activity;

    public InMemoryLink(ILossModel? lossAtoB = null, ILossModel? lossBtoA = null)
    {
        var toB = Channel.CreateUnbounded<byte[]>();
        var toA = Channel.CreateUnbounded<byte[]>();
        A = new End(this, toA, toB, lossAtoB ?? new NoLoss());
        B = new End(this, toB, toA, lossBtoA ?? new NoLoss());
    }

    /// <summary>Changes on every send and receive, so a driver can tell when traffic stopped.</summary>
    public long Activity => Interlocked.Read(ref _activity);
    public bool Idle => A.Queued == 0 && B.Queued == 0;

    public ILossModel LossAtoB { set => A.Loss = value; }
    public ILossModel LossBtoA { set => B.Loss = value; }

    internal sealed class End(InMemoryLink link, Channel<byte[]> inbound, Channel<byte[]> outbound, ILossModel loss) : IPacketTransport
    {
        private long _sent;
        public ILossModel Loss = loss;
        public long Sent => Interlocked.Read(ref _sent);
        public long Dropped;
        public int Queued => inbound.Reader.Count;

        public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref link._activity);
            long n = Interlocked.Increment(ref _sent);
            if (Loss.Drop(n))
            {
                Interlocked.Increment(ref Dropped);
                return ValueTask.CompletedTask;
            }
            outbound.Writer.TryWrite(packet.ToArray());
            return ValueTask.CompletedTask;
        }

        public async ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var p = await inbound.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref link._activity);
            int n = Math.Min(p.Length, buffer.Length);
            p.AsSpan(0, n).CopyTo(buffer.Span);
            return new ReceivedPacket(n, DateTimeOffset.UnixEpoch, p.Length > buffer.Length);
        }

        public ValueTask DisposeAsync()
        {
            inbound.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
