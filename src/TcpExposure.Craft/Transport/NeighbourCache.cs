using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Link-layer next hops learnt from received frames: a peer's packets arrive from some neighbour
/// on some interface, and our answers go back the same way. This lets the offloaded (AF_PACKET)
/// send path write Ethernet headers without asking the kernel's neighbour table for every
/// destination, and it never sends to a peer it has not heard from (those go the plain raw-socket way).
/// </summary>
/// <remarks>Written by the receive thread, read by the sender under the stack's lock; lookups allocate nothing.</remarks>
internal sealed class NeighbourCache(Socket namespaceSocket)
{
    /// <summary>How to reach one peer: the interface, the neighbour's MAC and our own MAC on it (48-bit values).</summary>
    public readonly record struct Hop(int InterfaceIndex, ulong NextHopMac, ulong OwnMac);

    private readonly ConcurrentDictionary<UInt128, Hop> _hops = new();
    private readonly ConcurrentDictionary<int, ulong> _ownMacs = new();

    /// <summary>Bounded so that a flood of spoofed sources cannot grow it without end; past it, no new peers are learnt.</summary>
    public const int Capacity = 65536;

    public bool TryGet(ReadOnlySpan<byte> address, out Hop hop) => _hops.TryGetValue(Key(address), out hop);

    /// <summary>
    /// Notes where an incoming packet came from: <paramref name="sll"/> is the <c>sockaddr_ll</c> a packet
    /// socket reported, <paramref name="packet"/> the IP packet. Only unicast Ethernet frames count.
    /// </summary>
    public void Learn(ReadOnlySpan<byte> sll, ReadOnlySpan<byte> packet)
    {
        if (sll.Length < 20 || packet.Length < 20)
            return;
        if (BinaryPrimitives.ReadUInt16LittleEndian(sll[8..]) != Native.ArphrdEther || sll[10] != Native.PacketHost || sll[11] != 6)
            return;
        int version = packet[0] >> 4;
        ReadOnlySpan<byte> source;
        if (version == 4)
            source = packet.Slice(12, 4);
        else if (version == 6 && packet.Length >= 40)
            source = packet.Slice(8, 16);
        else
            return;
        int ifindex = BinaryPrimitives.ReadInt32LittleEndian(sll[4..]);
        ulong mac = ReadMac(sll[12..]);
        var key = Key(source);
        if (_hops.TryGetValue(key, out var known) && known.InterfaceIndex == ifindex && known.NextHopMac == mac)
            return;
        if (!_ownMacs.TryGetValue(ifindex, out ulong own))
        {
            if (!TryInterfaceMac(ifindex, out own))
                return;
            _ownMacs[ifindex] = own;
        }
        if (_hops.Count < Capacity || _hops.ContainsKey(key))
            _hops[key] = new Hop(ifindex, mac, own);
    }

    private static UInt128 Key(ReadOnlySpan<byte> a)
        => a.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(a) | ((UInt128)0xFFFF << 32) : BinaryPrimitives.ReadUInt128BigEndian(a);

    private static ulong ReadMac(ReadOnlySpan<byte> m)
    {
        ulong v = 0;
        for (int k = 0; k < 6; k++)
            v = (v << 8) | m[k];
        return v;
    }

    // SIOCGIFNAME then SIOCGIFHWADDR on a socket of the right namespace (struct ifreq: name[16], union at 16).
    private unsafe bool TryInterfaceMac(int ifindex, out ulong mac)
    {
        mac = 0;
        byte* ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        *(int*)(ifr + 16) = ifindex;
        if (Native.ioctl(namespaceSocket.Handle, Native.SiocGIfName, ifr) != 0)
            return false;
        new Span<byte>(ifr + 16, 24).Clear();
        if (Native.ioctl(namespaceSocket.Handle, Native.SiocGIfHwAddr, ifr) != 0)
            return false;
        // sockaddr at 16: sa_family (ARPHRD_*), then the address bytes.
        if (*(ushort*)(ifr + 16) != Native.ArphrdEther)
            return false;
        mac = ReadMac(new ReadOnlySpan<byte>(ifr + 18, 6));
        return true;
    }
}
