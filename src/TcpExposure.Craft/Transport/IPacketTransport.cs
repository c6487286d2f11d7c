namespace TcpExposure.Craft.Transport;

/// <summary>
/// Moves whole IP packets (starting at the IP header) to and from the wire. Implementations:
/// raw IP sockets and libpcap. Everything above this (answer matching, the responders, the
/// user-space TCP) talks only to this interface, so tests can plug in a loopback pair.
/// </summary>
public interface IPacketTransport : IAsyncDisposable
{
    /// <summary>Puts one IP packet on the wire.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for the next IP packet and copies it into <paramref name="buffer"/>. Packets longer
    /// than the buffer are cut to it (<see cref="ReceivedPacket.Truncated"/>).
    /// </summary>
    ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);
}

/// <summary>A packet <see cref="IPacketTransport.ReceiveAsync"/> copied into the caller's buffer.</summary>
/// <param name="Length">Bytes written to the buffer.</param>
/// <param name="Timestamp">When the packet was received (the capture time where the transport has one).</param>
/// <param name="Truncated">The packet was longer than the buffer.</param>
public readonly record struct ReceivedPacket(int Length, DateTimeOffset Timestamp, bool Truncated = false);
