namespace TcpExposure.Craft.Transport;

/// <summary>
/// A transport that queues outgoing IP packets in its own pinned slots and puts a whole batch on the
/// wire with one system call; optionally it takes TCP super-packets that the kernel cuts into
/// segments (segmentation offload) and leaves the TCP checksum to the kernel or the NIC.
/// </summary>
/// <remarks>
/// The caller writes a packet straight into <see cref="PendingSlot"/> (no copy, no allocation) and
/// adds it with <see cref="Commit"/>; <see cref="Flush"/> sends what was committed, in order. The
/// members are not thread-safe: one writer at a time (the user-space TCP calls them under its lock).
/// </remarks>
public interface IPacketBatchTransport : IPacketTransport
{
    /// <summary>The largest IP packet <see cref="PendingSlot"/> holds.</summary>
    int SlotCapacity { get; }

    /// <summary>Where the next packet goes: write an IP packet from its start, then <see cref="Commit"/>.</summary>
    Span<byte> PendingSlot { get; }

    /// <summary>
    /// Whether packets to <paramref name="destination"/> (4 or 16 address bytes) may be offloaded:
    /// TCP super-packets up to <see cref="SlotCapacity"/> bytes, and the TCP checksum field holding only
    /// the pseudo-header sum (the kernel finishes it). False: plain packets with complete checksums.
    /// </summary>
    bool CanOffload(ReadOnlySpan<byte> destination);

    /// <summary>
    /// Adds the packet of <paramref name="length"/> bytes written in <see cref="PendingSlot"/> to the
    /// batch; sends the batch when it is full. <paramref name="offload"/>: a TCP packet whose checksum is
    /// left to the kernel (only after <see cref="CanOffload"/> said yes); <paramref name="segmentSize"/> &gt; 0
    /// also asks the kernel to cut its payload into segments of that many bytes.
    /// </summary>
    void Commit(int length, bool offload, int segmentSize);

    /// <summary>Sends every committed packet; returns how many the kernel refused (each is loss to TCP).</summary>
    int Flush();

    /// <summary>
    /// Takes a packet that has already arrived, without waiting: false when none is queued. Lets a
    /// receiver handle a burst (of ACKs, say) before it answers, instead of answering each one.
    /// Must not run concurrently with <see cref="IPacketTransport.ReceiveAsync"/>.
    /// </summary>
    bool TryReceive(Span<byte> buffer, out ReceivedPacket packet);
}
