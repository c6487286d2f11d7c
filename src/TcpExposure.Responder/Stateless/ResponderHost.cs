using System.Buffers;
using System.Buffers.Binary;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Stateless;

/// <summary>Called for every answer sent: the packet that caused it, the answer, and what the core decided.</summary>
public delegate void ResponderAnswerHandler(ReadOnlySpan<byte> incoming, ReadOnlySpan<byte> answer, ResponderResult result);

/// <summary>
/// Runs <see cref="StatelessResponder"/> over a transport: one receive loop, one pair of pooled
/// buffers, no task or allocation per packet, no per-connection state. Answers go out from the
/// loop itself, in order, before the next packet is read.
/// </summary>
public sealed class ResponderHost
{
    private readonly IPacketTransport _transport;
    private readonly ResponderConfig _config;

    /// <summary>A host for <paramref name="config"/> on <paramref name="transport"/> (which it does not own).</summary>
    public ResponderHost(IPacketTransport transport, ResponderConfig config)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _config = config ?? throw new ArgumentNullException(nameof(config));
    }

    /// <summary>What the loop has done so far.</summary>
    public ResponderCounters Counters { get; } = new();

    /// <summary>Called for every answer sent (null: nothing). Runs on the loop; keep it short.</summary>
    public ResponderAnswerHandler? OnAnswer { get; init; }

    /// <summary>
    /// Answers until <paramref name="cancellationToken"/> fires (then returns normally) or the
    /// transport fails (then throws).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        byte[] rx = ArrayPool<byte>.Shared.Rent(65536 + 64);
        byte[] tx = ArrayPool<byte>.Shared.Rent(2 * 65536);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ReceivedPacket r;
                try
                {
                    r = await _transport.ReceiveAsync(rx, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                Counters.CountReceived(r.Truncated);
                var result = Process(rx.AsSpan(0, r.Length), tx);
                if (result.Verdict != ResponderVerdict.Answered)
                    continue;
                await SendAsync(tx.AsMemory(0, result.FirstLength), cancellationToken).ConfigureAwait(false);
                if (result.SecondLength > 0)
                    await SendAsync(tx.AsMemory(result.FirstLength, result.SecondLength), cancellationToken).ConfigureAwait(false);
                OnAnswer?.Invoke(rx.AsSpan(0, r.Length), tx.AsSpan(0, result.TotalLength), result);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rx);
            ArrayPool<byte>.Shared.Return(tx);
        }
    }

    /// <summary>Judges one packet and counts the verdict (split out so the receive loop stays a loop of awaits).</summary>
    private ResponderResult Process(ReadOnlySpan<byte> packet, Span<byte> output)
    {
        var status = PacketView.TryParse(packet, out var view);
        if (status != PacketStatus.Tcp)
        {
            var v = status == PacketStatus.TruncatedTcp ? ResponderVerdict.Malformed : ResponderVerdict.NotTcp;
            Counters.Count(v);
            return new(v);
        }
        if (IsOwnAnswer(in view))
        {
            Counters.CountOwnAnswer();
            return new(ResponderVerdict.OtherPort);
        }
        var result = StatelessResponder.Respond(in view, output, _config);
        Counters.Count(result.Verdict);
        return result;
    }

    /// <summary>
    /// A capture that sees outgoing packets would hand us our own answers; with no address
    /// configured one could look like a segment to answer. Ours carry our port as source, our
    /// TTL and (IPv4) our IP ID.
    /// </summary>
    private bool IsOwnAnswer(in PacketView p)
        => p.Tcp.SourcePort == _config.Port && p.Ttl == _config.Ttl
           && (p.IsIpv6 || BinaryPrimitives.ReadUInt16BigEndian(p.Bytes[4..]) == _config.IpId);

    private async ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
    {
        try
        {
            await _transport.SendAsync(packet, cancellationToken).ConfigureAwait(false);
            Counters.CountSent();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            // One refused answer (no route, buffer full) must not stop the responder.
            Counters.CountSendFailure();
        }
    }
}
