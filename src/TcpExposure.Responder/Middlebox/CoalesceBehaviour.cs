using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Merges back-to-back data segments toward the server, as resegmenting proxies and receive
/// offloads in the path do: a data segment (flags ACK and PSH only) is held; a following
/// contiguous one of the same flow is appended to it (the first one's header and options are kept,
/// the last one's ack, window and PSH); anything else in the flow, a gap, reaching
/// <see cref="MaxBytes"/> or the hold time (<see cref="IMiddleboxBehaviour.Flush"/>, driven by the
/// forwarder's timer) releases it.
/// </summary>
public sealed class CoalesceBehaviour : IMiddleboxBehaviour
{
    private readonly Dictionary<FlowId, TcpSegment> _held = [];

    /// <summary>Holds up to <paramref name="hold"/>, merging up to <paramref name="maxBytes"/> of payload.</summary>
    public CoalesceBehaviour(TimeSpan hold, int maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(hold, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        Hold = hold;
        MaxBytes = maxBytes;
    }

    /// <summary>The default hold time: long enough for a burst sent back to back, short against an RTO.</summary>
    public static readonly TimeSpan DefaultHold = TimeSpan.FromMilliseconds(50);

    /// <summary>The default largest merged payload: a 1500-byte MTU less IP, TCP and 40 bytes of options.</summary>
    public const int DefaultMaxBytes = 1400;

    /// <summary>How long a data segment is held waiting for the next one.</summary>
    public TimeSpan Hold { get; }
    /// <summary>The largest merged payload, in bytes.</summary>
    public int MaxBytes { get; }

    /// <summary>Segments absorbed into an earlier one.</summary>
    public long Merged { get; private set; }

    /// <inheritdoc/>
    public string Spec => $"coalesce:{(int)Hold.TotalMilliseconds}:{MaxBytes}";

    /// <inheritdoc/>
    public TimeSpan? HoldTime => _held.Count > 0 ? Hold : null;

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction) =>
        direction == MiddleboxDirection.ToServer && (_held.Count > 0 || packet.Tcp.Payload.Length > 0);

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        if (direction != MiddleboxDirection.ToServer)
        {
            output.Add(new(segment, direction));
            return;
        }
        var flow = FlowId.Of(segment, direction);
        bool mergeable = segment.IsData() && (segment.Flags & ~(TcpFlags.Ack | TcpFlags.Psh)) == 0 && segment.Payload.Length < MaxBytes;
        if (_held.TryGetValue(flow, out var held))
        {
            if (mergeable && segment.Sequence == held.Sequence + held.Payload.Length && held.Payload.Length + segment.Payload.Length <= MaxBytes)
            {
                Merged++;
                var payload = new byte[held.Payload.Length + segment.Payload.Length];
                held.Payload.Span.CopyTo(payload);
                segment.Payload.Span.CopyTo(payload.AsSpan(held.Payload.Length));
                _held[flow] = held.Recomputed() with
                {
                    Payload = payload,
                    Acknowledgment = segment.Acknowledgment,
                    Window = segment.Window,
                    Flags = held.Flags | segment.Flags,
                };
                return;
            }
            _held.Remove(flow);
            output.Add(new(held, direction));
        }
        if (mergeable)
            _held[flow] = segment;
        else
            output.Add(new(segment, direction));
    }

    /// <inheritdoc/>
    public void Flush(ICollection<RoutedSegment> output)
    {
        foreach (var held in _held.Values)
            output.Add(new(held, MiddleboxDirection.ToServer));
        _held.Clear();
    }
}
