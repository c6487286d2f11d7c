using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The outgoing batch of a <see cref="RawSocketTransport"/>: pinned packet slots, their
/// <c>struct mmsghdr</c>s built in place, one <c>sendmmsg(2)</c> per run of packets for the same
/// socket. Plain packets go to the raw IP sockets; offloaded ones to an <c>AF_PACKET</c> socket
/// with <c>PACKET_VNET_HDR</c>, each behind a <c>virtio_net_hdr</c> and an Ethernet header, so the
/// kernel finishes the TCP checksum and cuts super-packets into segments (GSO) as late as it can.
/// Allocates nothing per packet.
/// </summary>
internal sealed unsafe class RawPacketBatch : IDisposable
{
    /// <summary>virtio_net_hdr (10 bytes) + Ethernet header (14) in front of every slot's IP packet.</summary>
    public const int Headroom = 24;
    private const int VnetHdrLength = 10, EthernetLength = 14;
    private const int MsgHdrSize = 64, IovecSize = 16, NameSize = 32;
    private const byte VirtioNeedsCsum = 1, GsoTcpV4 = 1, GsoTcpV6 = 4;
    private enum Kind : byte { Raw4, Raw6, Packet }

    private readonly Socket _raw4;
    private readonly Socket? _raw6;
    private readonly Socket? _packet;
    private readonly NeighbourCache? _neighbours;
    private readonly byte[] _slots;   // pinned
    private readonly byte* _base;
    private readonly int _stride;
    private readonly byte* _native;   // mmsghdr[n], iovec[n], name[n]
    private readonly Kind[] _kinds;
    private int _count;
    private bool _disposed;

    public RawPacketBatch(Socket raw4, Socket? raw6, Socket? packet, NeighbourCache? neighbours, int slots, int slotCapacity)
    {
        _raw4 = raw4;
        _raw6 = raw6;
        _packet = packet;
        _neighbours = neighbours;
        Slots = slots;
        SlotCapacity = slotCapacity;
        _stride = (Headroom + slotCapacity + 63) & ~63;
        _slots = GC.AllocateUninitializedArray<byte>(slots * _stride, pinned: true);
        _base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slots));
        _kinds = new Kind[slots];
        _native = (byte*)NativeMemory.AllocZeroed((nuint)(slots * (MsgHdrSize + IovecSize + NameSize)));
        for (int i = 0; i < slots; i++)
        {
            byte* msg = Msg(i);
            *(nint*)msg = (nint)Name(i);          // msg_name
            *(nint*)(msg + 16) = (nint)Iov(i);    // msg_iov
            *(nuint*)(msg + 24) = 1;              // msg_iovlen
        }
    }

    public int Slots { get; }
    public int SlotCapacity { get; }
    public int Count => _count;
    /// <summary>Packets the kernel refused since the transport opened.</summary>
    public long Refused { get; private set; }

    private byte* Msg(int i) => _native + i * MsgHdrSize;
    private byte* Iov(int i) => _native + Slots * MsgHdrSize + i * IovecSize;
    private byte* Name(int i) => _native + Slots * (MsgHdrSize + IovecSize) + i * NameSize;

    public Span<byte> PendingSlot => _slots.AsSpan(_count * _stride + Headroom, SlotCapacity);

    public bool CanOffload(ReadOnlySpan<byte> destination)
        => _packet is not null && _neighbours is not null && _neighbours.TryGet(destination, out _);

    public void Commit(int length, bool offload, int segmentSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)length > (uint)SlotCapacity || length < 20)
            throw new ArgumentOutOfRangeException(nameof(length), $"A packet of {length} bytes does not fit a slot of {SlotCapacity}.");
        int i = _count;
        byte* slot = _base + i * _stride;
        var ip = new ReadOnlySpan<byte>(slot + Headroom, length);
        bool v6 = ip[0] >> 4 == 6;
        byte* name = Name(i);
        byte* iov = Iov(i);
        NeighbourCache.Hop hop = default;
        if (offload && !(_neighbours?.TryGet(v6 ? ip.Slice(24, 16) : ip.Slice(16, 4), out hop) ?? false))
            throw new InvalidOperationException("An offloaded packet to a destination without a known next hop (ask CanOffload first).");
        if (offload)
        {
            int ipLen = v6 ? 40 : (ip[0] & 0xF) * 4;
            int tcpHeader = (ip[ipLen + 12] >> 4) * 4;
            var vnet = new Span<byte>(slot, VnetHdrLength);
            vnet[0] = VirtioNeedsCsum;
            vnet[1] = segmentSize > 0 ? (v6 ? GsoTcpV6 : GsoTcpV4) : (byte)0;
            BinaryPrimitives.WriteUInt16LittleEndian(vnet[2..], (ushort)(EthernetLength + ipLen + tcpHeader));
            BinaryPrimitives.WriteUInt16LittleEndian(vnet[4..], (ushort)segmentSize);
            BinaryPrimitives.WriteUInt16LittleEndian(vnet[6..], (ushort)(EthernetLength + ipLen));
            BinaryPrimitives.WriteUInt16LittleEndian(vnet[8..], 16); // TCP checksum field
            var eth = new Span<byte>(slot + VnetHdrLength, EthernetLength);
            WriteMac(eth, hop.NextHopMac);
            WriteMac(eth[6..], hop.OwnMac);
            ushort etherType = v6 ? Native.EthPIpv6 : Native.EthPIp;
            BinaryPrimitives.WriteUInt16BigEndian(eth[12..], etherType);
            // struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]
            var sll = new Span<byte>(name, 20);
            sll.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(sll, (ushort)Native.AfPacket);
            BinaryPrimitives.WriteUInt16BigEndian(sll[2..], etherType);
            BinaryPrimitives.WriteInt32LittleEndian(sll[4..], hop.InterfaceIndex);
            sll[11] = 6;
            WriteMac(sll[12..], hop.NextHopMac);
            *(nint*)iov = (nint)slot;
            *(nuint*)(iov + 8) = (nuint)(Headroom + length);
            *(uint*)(Msg(i) + 8) = 20;
            _kinds[i] = Kind.Packet;
        }
        else
        {
            // struct sockaddr_in / sockaddr_in6 with the packet's own destination (routing follows it).
            var sa = new Span<byte>(name, NameSize);
            sa.Clear();
            if (v6)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(sa, (ushort)Native.AfInet6);
                ip.Slice(24, 16).CopyTo(sa[8..]);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(sa, (ushort)Native.AfInet);
                ip.Slice(16, 4).CopyTo(sa[4..]);
            }
            *(nint*)iov = (nint)(slot + Headroom);
            *(nuint*)(iov + 8) = (nuint)length;
            *(uint*)(Msg(i) + 8) = v6 ? 28u : 16u;
            _kinds[i] = v6 ? Kind.Raw6 : Kind.Raw4;
        }
        _count++;
        if (_count == Slots)
            Flush();
    }

    private static void WriteMac(Span<byte> d, ulong mac)
    {
        for (int k = 5; k >= 0; k--, mac >>= 8)
            d[k] = (byte)mac;
    }

    /// <summary>Sends the committed packets in order; returns how many the kernel refused.</summary>
    public int Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int refused = 0, start = 0;
        while (start < _count)
        {
            var kind = _kinds[start];
            int end = start + 1;
            while (end < _count && _kinds[end] == kind)
                end++;
            var socket = kind switch { Kind.Packet => _packet, Kind.Raw6 => _raw6, _ => _raw4 };
            if (socket is null)
            {
                refused += end - start; // an IPv6 packet without IPv6 raw sockets
            }
            else
            {
                // A refused packet (ENOBUFS on a full queue, EPERM from netfilter) ends the call; skip it, send the rest.
                for (int at = start; at < end;)
                {
                    int sent = Native.sendmmsg(socket.Handle, Msg(at), (uint)(end - at), 0);
                    if (sent > 0)
                        at += sent;
                    else
                    {
                        refused++;
                        at++;
                    }
                }
            }
            start = end;
        }
        _count = 0;
        Refused += refused;
        return refused;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _count = 0;
        NativeMemory.Free(_native);
    }
}
