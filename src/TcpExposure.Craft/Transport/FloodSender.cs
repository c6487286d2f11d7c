using System.Buffers.Binary;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>What a flood achieved.</summary>
/// <param name="Sent">Packets the kernel (or libpcap) accepted.</param>
/// <param name="Failed">Packets refused (a full send queue: ENOBUFS).</param>
/// <param name="Elapsed">From the first send to the last.</param>
public sealed record FloodResult(long Sent, long Failed, TimeSpan Elapsed)
{
    /// <summary>Accepted packets per second.</summary>
    public double Rate => Elapsed > TimeSpan.Zero ? Sent / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Sends one template segment many times, each with the next source port (the TCP checksum is
/// patched incrementally, RFC 1624, so no packet is re-encoded), at a given rate or as fast as the
/// transport goes. One working buffer, no allocation per packet; pacing waits on the
/// <see cref="TimeProvider"/> once per millisecond's batch instead of spinning.
/// </summary>
public sealed class FloodSender
{
    private readonly byte[] _packet;
    private readonly int _tcpOffset;
    private readonly double _rate;
    private readonly long _count;
    private readonly TimeProvider _time;

    /// <summary>Prepares a flood of <paramref name="count"/> copies of <paramref name="template"/> at <paramref name="rate"/> packets/s (0: unpaced).</summary>
    public FloodSender(ReadOnlyMemory<byte> template, double rate, long count, TimeProvider? time = null, int sourcePortRange = 20000)
    {
        if (PacketView.TryParse(template.Span, out var v) != PacketStatus.Tcp)
            throw new ArgumentException("A flood needs an IP + TCP packet as its template.", nameof(template));
        _packet = template.ToArray();
        _tcpOffset = v.TransportOffset;
        _rate = rate;
        _count = count;
        _time = time ?? TimeProvider.System;
        FirstPort = v.Tcp.SourcePort;
        PortRange = Math.Clamp(sourcePortRange, 1, 65536 - Math.Max((int)FirstPort, 1));
    }

    /// <summary>The template's source port: packet i uses FirstPort + i mod PortRange.</summary>
    public ushort FirstPort { get; }
    /// <summary>How many source ports the flood cycles through.</summary>
    public int PortRange { get; }

    /// <summary>Sends the flood; reports progress once a second on <paramref name="progress"/>.</summary>
    public async Task<FloodResult> RunAsync(IPacketTransport transport, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        if (transport is RawSocketTransport rawTransport)
            return await RunBatchedAsync(rawTransport, progress, cancellationToken).ConfigureAwait(false);
        long sent = 0, failed = 0;
        long start = _time.GetTimestamp();
        long nextReport = 1;
        int batch = _rate > 0 ? (int)Math.Clamp(_rate / 1000, 1, 4096) : 256;
        ushort port = FirstPort;
        for (long i = 0; i < _count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(batch, _count - i);
            for (int k = 0; k < n; k++, i++)
            {
                SetSourcePort(port);
                port = (ushort)(FirstPort + (int)((i + 1) % PortRange));
                try
                {
                    await transport.SendAsync(_packet, cancellationToken).ConfigureAwait(false);
                    sent++;
                }
                catch (IOException)
                {
                    failed++;
                }
            }
            var elapsed = _time.GetElapsedTime(start);
            if (progress is not null && elapsed.TotalSeconds >= nextReport)
            {
                progress.WriteLine($"flood: {sent} sent, {sent / elapsed.TotalSeconds:0} packets/s");
                nextReport = (long)elapsed.TotalSeconds + 1;
            }
            if (_rate > 0)
            {
                // Ahead of schedule: wait for the time the next packet is due.
                double due = i / _rate;
                var wait = TimeSpan.FromSeconds(due) - elapsed;
                if (wait > TimeSpan.FromMilliseconds(1))
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        return new FloodResult(sent, failed, _time.GetElapsedTime(start));
    }

    /// <summary>Raw sockets: batches of up to 64 packets per sendmmsg(2), ports patched in place.</summary>
    private async Task<FloodResult> RunBatchedAsync(RawSocketTransport transport, TextWriter? progress, CancellationToken cancellationToken)
    {
        int batch = _rate > 0 ? (int)Math.Clamp(_rate / 1000, 1, 64) : 64;
        using var sender = transport.CreateBatchSender(_packet, batch);
        long sent = 0, failed = 0, nextReport = 1;
        long start = _time.GetTimestamp();
        for (long i = 0; i < _count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(batch, _count - i);
            for (int k = 0; k < n; k++)
                SetSourcePort(sender.Packet(k), _tcpOffset, (ushort)(FirstPort + (int)((i + k) % PortRange)));
            int took = sender.Send(n);
            sent += took;
            failed += n - took;
            i += n;
            var elapsed = _time.GetElapsedTime(start);
            if (progress is not null && elapsed.TotalSeconds >= nextReport)
            {
                progress.WriteLine($"flood: {sent} sent, {sent / elapsed.TotalSeconds:0} packets/s");
                nextReport = (long)elapsed.TotalSeconds + 1;
            }
            if (_rate > 0)
            {
                var wait = TimeSpan.FromSeconds(i / _rate) - elapsed;
                if (wait > TimeSpan.FromMilliseconds(1))
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        return new FloodResult(sent, failed, _time.GetElapsedTime(start));
    }

    private void SetSourcePort(ushort port) => SetSourcePort(_packet, _tcpOffset, port);

    private static void SetSourcePort(Span<byte> packet, int tcpOffset, ushort port)
    {
        var tcp = packet[tcpOffset..];
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        if (old == port) return;
        BinaryPrimitives.WriteUInt16BigEndian(tcp, port);
        // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
        ushort hc = BinaryPrimitives.ReadUInt16BigEndian(tcp[16..]);
        uint sum = (uint)(ushort)~hc + (ushort)~old + port;
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~sum);
    }
}
