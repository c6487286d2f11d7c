using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Writes a fixed receive window into every segment toward the server (as window-clamping boxes
/// do), so the server sees a window the client never advertised.
/// </summary>
public sealed class WindowBehaviour(ushort window) : IMiddleboxBehaviour
{
    /// <summary>The raw window field written toward the server (unscaled, as on the wire).</summary>
    public ushort Window { get; } = window;

    /// <inheritdoc/>
    public string Spec => $"window:{Window}";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction) =>
        direction == MiddleboxDirection.ToServer && packet.Tcp.Window != Window;

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        if (direction != MiddleboxDirection.ToServer || segment.Window == Window)
        {
            output.Add(new(segment, direction));
            return;
        }
        output.Add(new(segment.Recomputed() with { Window = Window }, direction));
    }
}
