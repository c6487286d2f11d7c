using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Drops segments toward the server that start beyond the highest sequence number seen so far in
/// their flow (a hole before them), as in-order-enforcing firewalls and normalisers do. The first
/// segment of a flow (normally the SYN) sets the mark; a flow is forgotten on RST.
/// </summary>
public sealed class DropBeyondHoleBehaviour : IMiddleboxBehaviour
{
    private readonly Dictionary<FlowId, SeqNumber> _highest = [];

    /// <summary>Segments dropped.</summary>
    public long Dropped { get; private set; }

    /// <summary>Flows tracked now.</summary>
    public int Flows => _highest.Count;

    /// <inheritdoc/>
    public string Spec => "drop-beyond-hole";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction) => direction == MiddleboxDirection.ToServer;

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        if (direction != MiddleboxDirection.ToServer)
        {
            output.Add(new(segment, direction));
            return;
        }
        var flow = FlowId.Of(segment, direction);
        if (segment.Flags.Has(TcpFlags.Rst))
        {
            _highest.Remove(flow);
            output.Add(new(segment, direction));
            return;
        }
        var end = segment.Sequence + segment.SequenceLength;
        if (segment.Flags.Has(TcpFlags.Syn) || !_highest.TryGetValue(flow, out var highest))
        {
            _highest[flow] = end;
            output.Add(new(segment, direction));
            return;
        }
        if (segment.Sequence > highest)
        {
            Dropped++;
            return;
        }
        if (end > highest)
            _highest[flow] = end;
        output.Add(new(segment, direction));
    }
}
