using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Acknowledges data on the server's behalf, as split-connection proxies and some accelerators
/// do: every data segment toward the server is preceded, toward the client, by a pure ACK that
/// looks like it came from the server (seq = the segment's ack, ack = the end of its data, the
/// window the server last advertised in the flow). The data is forwarded unchanged and the
/// server's own ACK still passes, so the client sees the proxy ACK first.
/// </summary>
public sealed class ProxyAckBehaviour : IMiddleboxBehaviour
{
    private readonly Dictionary<FlowId, ushort> _serverWindow = [];

    /// <summary>ACKs sent on the server's behalf.</summary>
    public long Acks { get; private set; }

    /// <inheritdoc/>
    public string Spec => "proxy-ack";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction)
    {
        var f = packet.Tcp.Flags;
        // It tracks the server's window from everything toward the client, forgets on RST, and ACKs data.
        return direction == MiddleboxDirection.ToClient || (f & TcpFlags.Rst) != 0
            || (packet.Tcp.Payload.Length > 0 && (f & TcpFlags.Syn) == 0 && (f & TcpFlags.Ack) != 0);
    }

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        var flow = FlowId.Of(segment, direction);
        if (segment.Flags.Has(TcpFlags.Rst))
        {
            _serverWindow.Remove(flow);
        }
        else if (direction == MiddleboxDirection.ToClient)
        {
            _serverWindow[flow] = segment.Window;
        }
        else if (segment.IsData() && segment.Flags.Has(TcpFlags.Ack))
        {
            Acks++;
            var ack = segment.Reply() with
            {
                Sequence = segment.Acknowledgment,
                Acknowledgment = segment.Sequence + segment.SequenceLength,
                Flags = TcpFlags.Ack,
                Window = _serverWindow.TryGetValue(flow, out var w) ? w : segment.Window,
            };
            output.Add(new(ack, MiddleboxDirection.ToClient));
        }
        output.Add(new(segment, direction));
    }
}
