using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>Which way a segment crosses the middlebox.</summary>
public enum MiddleboxDirection
{
    /// <summary>From the left interface to the right one: client to server in the test network.</summary>
    ToServer,
    /// <summary>From the right interface to the left one: server to client.</summary>
    ToClient,
}

/// <summary>A segment leaving the middlebox, and which way it goes.</summary>
/// <param name="Segment">The segment to send.</param>
/// <param name="Direction">Where it goes: <see cref="MiddleboxDirection.ToServer"/> leaves by the right interface.</param>
public readonly record struct RoutedSegment(TcpSegment Segment, MiddleboxDirection Direction);

/// <summary>
/// One thing a middlebox does to TCP. A behaviour is a pure function from one segment to zero or
/// more segments (possibly going the other way, like a proxy ACK), with per-flow state where the
/// behaviour needs it. It never touches the network or a clock: the forwarder owns those, which is
/// what makes every behaviour testable by feeding segments and comparing the exact output.
/// </summary>
public interface IMiddleboxBehaviour
{
    /// <summary>The spec that builds it (<c>strip:30:syn</c>, <c>seq-offset:1000</c>...), for logs and counters.</summary>
    string Spec { get; }

    /// <summary>Handles one segment travelling <paramref name="direction"/>; adds what leaves to <paramref name="output"/>.</summary>
    void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output);

    /// <summary>
    /// Whether <see cref="Process"/> might do anything to this segment other than pass it on
    /// unchanged: change it, drop it, add to it, hold it, or update per-flow state. Read from a
    /// view of the raw packet, so a forwarder can send untouched segments on without parsing them
    /// into a <see cref="TcpSegment"/>. When unsure, say true (the default): that only costs speed.
    /// </summary>
    bool Touches(in PacketView packet, MiddleboxDirection direction) => true;

    /// <summary>
    /// How long the behaviour wants to hold what it holds before <see cref="Flush"/> is called;
    /// null when it holds nothing.
    /// </summary>
    TimeSpan? HoldTime => null;

    /// <summary>Releases everything held (the hold time passed, or the middlebox stops).</summary>
    void Flush(ICollection<RoutedSegment> output)
    {
    }
}
