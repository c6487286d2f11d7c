using System.Buffers.Binary;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Craft.Tests.Transport;

/// <summary>
/// What the offload path learns from received frames, and what it must ignore. (Learning from a real
/// Ethernet neighbour is covered end to end by the serve integration tests' segments-merged counter.)
/// </summary>
public class NeighbourCacheTests
{
    private static byte[] Sll(ushort hatype, byte pkttype, byte halen, int ifindex = 1)
    {
        var sll = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(sll, 17);
        BinaryPrimitives.WriteInt32LittleEndian(sll.AsSpan(4), ifindex);
        BinaryPrimitives.WriteUInt16LittleEndian(sll.AsSpan(8), hatype);
        sll[10] = pkttype;
        sll[11] = halen;
        sll.AsSpan(12, 6).Fill(0xAB);
        return sll;
    }

    private static byte[] Ipv4From(byte a, byte b, byte c, byte d)
    {
        var p = new byte[40];
        p[0] = 0x45;
        p[12] = a; p[13] = b; p[14] = c; p[15] = d;
        return p;
    }

    [Test]
    public void IgnoresWhatIsNotUnicastEthernetAddressedToUs()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var cache = new NeighbourCache(socket);
        var packet = Ipv4From(10, 1, 2, 3);
        cache.Learn(Sll(772, 0, 6), packet);   // loopback
        cache.Learn(Sll(1, 4, 6), packet);     // outgoing
        cache.Learn(Sll(1, 1, 6), packet);     // broadcast
        cache.Learn(Sll(1, 0, 0), packet);     // no hardware address
        cache.Learn(Sll(1, 0, 6, ifindex: int.MaxValue), packet); // no such interface: no MAC of ours
        Assert.That(cache.TryGet([10, 1, 2, 3], out _), Is.False);
    }

    [Test]
    public void MalformedInputNeverThrows()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var cache = new NeighbourCache(socket);
        var random = new Random(11);
        for (int i = 0; i < 2000; i++)
        {
            var sll = new byte[random.Next(0, 24)];
            var packet = new byte[random.Next(0, 60)];
            random.NextBytes(sll);
            random.NextBytes(packet);
            Assert.DoesNotThrow(() => cache.Learn(sll, packet));
        }
        Assert.That(cache.TryGet([1, 2, 3, 4], out _), Is.False);
        Assert.That(cache.TryGet(new byte[16], out _), Is.False);
    }
}
