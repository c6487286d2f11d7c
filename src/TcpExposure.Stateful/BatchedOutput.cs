using System.Buffers.Binary;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// The stack's output on a batching transport: every segment is encoded straight from the
/// connection's send buffer into the transport's pinned packet slots, and the batch leaves with one
/// system call when the stack flushes (after each burst of events). Where the transport offloads,
/// back-to-back full-sized data segments of one connection become one TCP super-packet that the
/// kernel cuts into segments (like the kernel's own TCP with TSO/GSO), and no checksum is summed here.
/// Called under the stack's lock only; allocates nothing.
/// </summary>
internal sealed class BatchedOutput(IPacketBatchTransport transport)
{
    // The super-packet being built in the transport's pending slot (open while _length > 0).
    private int _length, _ipHeader, _segmentSize, _segments;
    private bool _lastFull;
    private ushort _srcPort, _dstPort, _window;
    private SeqNumber _next, _ack;
    private bool _timestamps;
    private uint _tsVal, _tsEcr;

    /// <summary>Segments merged into super-packets so far (a super-packet of n segments counts n - 1).</summary>
    public long Merged { get; private set; }

    public void Add(in OutgoingSegment s, ReadOnlySpan<byte> src, ushort srcPort, ReadOnlySpan<byte> dst, ushort dstPort)
    {
        if (_length > 0)
        {
            if (CanAppend(s, srcPort, dst, dstPort))
            {
                Append(s);
                return;
            }
            Close();
        }
        var slot = transport.PendingSlot;
        if (PacketEncoder.HeaderLength(src.Length == 16 ? System.Net.Sockets.AddressFamily.InterNetworkV6 : System.Net.Sockets.AddressFamily.InterNetwork) + s.TcpLength > slot.Length)
            return; // larger than any packet a connection makes; the stack counts nothing it never sent
        bool offload = transport.CanOffload(dst);
        int n = PacketEncoder.Encode(slot, s, src, srcPort, dst, dstPort, offloadChecksum: offload);
        if (offload && IsBulkData(s))
        {
            _length = n;
            _ipHeader = src.Length == 16 ? 40 : 20;
            _segmentSize = s.PayloadLength;
            _segments = 1;
            _lastFull = true;
            _srcPort = srcPort;
            _dstPort = dstPort;
            _window = s.Window;
            _next = s.Sequence + s.PayloadLength;
            _ack = s.Acknowledgment;
            _timestamps = s.Options.HasTimestamps;
            _tsVal = s.Options.TsVal;
            _tsEcr = s.Options.TsEcr;
            return;
        }
        transport.Commit(n, offload, 0);
    }

    /// <summary>Closes the open super-packet and sends the batch; returns the packets the kernel refused.</summary>
    public int Flush()
    {
        Close();
        return transport.Flush();
    }

    // Only plain data (ACK, maybe PSH) with no options but timestamps may be cut by the kernel: it
    // copies the header to every segment, clearing PSH and FIN on all but the last.
    private static bool IsBulkData(in OutgoingSegment s)
        => (s.Flags & ~TcpFlags.Psh) == TcpFlags.Ack && s.PayloadLength > 0
           && s.Options.Mss == 0 && s.Options.WindowScale < 0 && !s.Options.SackPermitted && s.Options.SackCount == 0;

    private bool CanAppend(in OutgoingSegment s, ushort srcPort, ReadOnlySpan<byte> dst, ushort dstPort)
    {
        if (!_lastFull || srcPort != _srcPort || dstPort != _dstPort || !IsBulkData(s)
            || s.Sequence != _next || s.Acknowledgment != _ack || s.Window != _window
            || s.PayloadLength > _segmentSize || _length + s.PayloadLength > transport.SlotCapacity
            || s.Options.HasTimestamps != _timestamps || s.Options.TsVal != _tsVal || s.Options.TsEcr != _tsEcr)
            return false;
        var slot = transport.PendingSlot;
        return dst.SequenceEqual(dst.Length == 16 ? slot.Slice(24, 16) : slot.Slice(16, 4));
    }

    private void Append(in OutgoingSegment s)
    {
        var slot = transport.PendingSlot;
        s.Payload1.CopyTo(slot[_length..]);
        s.Payload2.CopyTo(slot[(_length + s.Payload1.Length)..]);
        int n = s.PayloadLength;
        _length += n;
        _next += n;
        _segments++;
        _lastFull = n == _segmentSize;
        Merged++;
        if (s.Flags.Has(TcpFlags.Psh))
            slot[_ipHeader + 13] |= (byte)TcpFlags.Psh;
    }

    private void Close()
    {
        if (_length == 0)
            return;
        var slot = transport.PendingSlot;
        if (_segments > 1)
            PacketEncoder.Resize(slot, _length);
        int length = _length;
        _length = 0;
        transport.Commit(length, offload: true, _segments > 1 ? _segmentSize : 0);
    }
}
