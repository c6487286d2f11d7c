using System.Buffers.Binary;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful.Tests;

/// <summary>One packet a <see cref="BatchingTransport"/> was given: its bytes as committed and how.</summary>
internal sealed record CommittedPacket(byte[] Bytes, bool Offload, int SegmentSize);

/// <summary>
/// An <see cref="IPacketBatchTransport"/> over another transport that does on flush what the kernel
/// does with a virtio-net header: finishes offloaded TCP checksums (the field must hold the
/// pseudo-header sum) and cuts super-packets into segments as Linux's tcp_gso_segment does (IPv4
/// id incremented, PSH and FIN only on the last segment, lengths and checksums per segment).
/// </summary>
internal sealed class BatchingTransport(IPacketTransport inner, bool offload, int slotCapacity = 65535, int slots = 8) : IPacketBatchTransport
{
    private readonly byte[] _slot = new byte[slotCapacity];
    private readonly List<CommittedPacket> _batch = [];

    /// <summary>Every packet committed so far, in order.</summary>
    public List<CommittedPacket> Committed { get; } = [];
    /// <summary>Offloaded packets whose checksum field was not the pseudo-header sum the kernel expects.</summary>
    public int BadPseudoSums;
    public int Flushes;

    public int SlotCapacity => slotCapacity;
    public Span<byte> PendingSlot => _slot;
    public bool CanOffload(ReadOnlySpan<byte> destination) => offload;

    public void Commit(int length, bool offloaded, int segmentSize)
    {
        Assert.That(offloaded && !offload, Is.False, "offloaded a packet the transport refused to offload");
        var p = new CommittedPacket(_slot.AsSpan(0, length).ToArray(), offloaded, segmentSize);
        lock (Committed)
            Committed.Add(p);
        _batch.Add(p);
        if (_batch.Count == slots)
            Flush();
    }

    public int Flush()
    {
        Flushes++;
        foreach (var p in _batch)
        {
            if (!p.Offload)
            {
                inner.SendAsync(p.Bytes);
                continue;
            }
            if (!PseudoSumOk(p.Bytes))
                Interlocked.Increment(ref BadPseudoSums);
            foreach (var segment in Segment(p.Bytes, p.SegmentSize))
                inner.SendAsync(segment);
        }
        _batch.Clear();
        return 0;
    }

    private static bool PseudoSumOk(byte[] ip)
    {
        int ipLen = ip[0] >> 4 == 6 ? 40 : 20;
        int tcpLen = ip.Length - ipLen;
        uint pseudo = ipLen == 40
            ? Checksum.PseudoHeaderSumV6(ip.AsSpan(8, 16), ip.AsSpan(24, 16), 6, tcpLen)
            : Checksum.PseudoHeaderSumV4(ip.AsSpan(12, 4), ip.AsSpan(16, 4), 6, tcpLen);
        return BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(ipLen + 16)) == Checksum.Fold(pseudo);
    }

    /// <summary>Software GSO of an IPv4/IPv6 TCP packet; segmentSize 0 only finishes the checksum.</summary>
    public static List<byte[]> Segment(byte[] ip, int segmentSize)
    {
        bool v6 = ip[0] >> 4 == 6;
        int ipLen = v6 ? 40 : 20;
        int hl = ipLen + (ip[ipLen + 12] >> 4) * 4;
        int payload = ip.Length - hl;
        int size = segmentSize > 0 ? segmentSize : payload;
        var list = new List<byte[]>();
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(ip.AsSpan(ipLen + 4));
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(4));
        for (int off = 0; off < payload || (payload == 0 && off == 0); off += size)
        {
            int n = Math.Min(size, payload - off);
            bool last = off + n >= payload;
            var s = new byte[hl + n];
            ip.AsSpan(0, hl).CopyTo(s);
            ip.AsSpan(hl + off, n).CopyTo(s.AsSpan(hl));
            BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(ipLen + 4), seq + (uint)off);
            if (!last)
                s[ipLen + 13] &= unchecked((byte)~(TcpFlags.Psh | TcpFlags.Fin));
            int tcpLen = s.Length - ipLen;
            uint pseudo;
            if (v6)
            {
                BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(4), (ushort)tcpLen);
                pseudo = Checksum.PseudoHeaderSumV6(s.AsSpan(8, 16), s.AsSpan(24, 16), 6, tcpLen);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), (ushort)s.Length);
                BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(4), id++);
                s[10] = 0; s[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(10), Checksum.Compute(s.AsSpan(0, 20)));
                pseudo = Checksum.PseudoHeaderSumV4(s.AsSpan(12, 4), s.AsSpan(16, 4), 6, tcpLen);
            }
            s[ipLen + 16] = 0; s[ipLen + 17] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(ipLen + 16), Checksum.ComputeTransport(pseudo, s.AsSpan(ipLen)));
            list.Add(s);
            if (payload == 0)
                break;
        }
        return list;
    }

    /// <summary>The in-memory link has no non-blocking receive: every packet comes through ReceiveAsync.</summary>
    public bool TryReceive(Span<byte> buffer, out ReceivedPacket packet)
    {
        packet = default;
        return false;
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
        => inner.SendAsync(packet, cancellationToken);

    public ValueTask<ReceivedPacket> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => inner.ReceiveAsync(buffer, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
