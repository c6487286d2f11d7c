using System.Net;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// A connection as the middlebox tracks it: client address and port, server address and port,
/// whichever way the segment that names it travels.
/// </summary>
public readonly record struct FlowId(IPAddress Client, ushort ClientPort, IPAddress Server, ushort ServerPort)
{
    /// <summary>The flow of <paramref name="s"/>, a segment travelling <paramref name="direction"/>.</summary>
    public static FlowId Of(TcpSegment s, MiddleboxDirection direction) => direction == MiddleboxDirection.ToServer
        ? new(s.Ip.Source, s.SourcePort, s.Ip.Destination, s.DestinationPort)
        : new(s.Ip.Destination, s.DestinationPort, s.Ip.Source, s.SourcePort);
}
