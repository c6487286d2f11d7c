using System.Buffers.Binary;
using TcpExposure.Craft.Pcap;

namespace TcpExposure.Craft.Tests.Pcap;

public class LinkLayerTests
{
    private static readonly byte[] V4 = Samples.Syn4();
    private static readonly byte[] V6 = Samples.Data6(3);

    private static int Offset(LinkType t, byte[] frame)
    {
        Assert.That(LinkLayer.TryGetIpOffset(t, frame, out int offset), Is.True, $"{t}: {Convert.ToHexString(frame)}");
        return offset;
    }

    private static bool Finds(LinkType t, byte[] frame) => LinkLayer.TryGetIpOffset(t, frame, out _);

    [Test]
    public void RawTypesCheckTheVersionNibble()
    {
        Assert.That(Offset(LinkType.Raw, V4), Is.Zero);
        Assert.That(Offset(LinkType.Raw, V6), Is.Zero);
        Assert.That(Offset(LinkType.Ipv4, V4), Is.Zero);
        Assert.That(Offset(LinkType.Ipv6, V6), Is.Zero);
        Assert.That(Finds(LinkType.Ipv4, V6), Is.False);
        Assert.That(Finds(LinkType.Ipv6, V4), Is.False);
        Assert.That(Finds(LinkType.Raw, []), Is.False);
        Assert.That(Finds(LinkType.Raw, [0x50]), Is.False);
    }

    [Test]
    public void EthernetWithAndWithoutTags()
    {
        var plain = Samples.Ethernet(V4);
        Assert.That(Offset(LinkType.Ethernet, plain), Is.EqualTo(14));
        Assert.That(plain[..14], Is.EqualTo(new byte[] { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 }));

        byte[] Tagged(byte[] ip, params ushort[] tags)
        {
            var f = new List<byte>(Samples.MacB.Concat(Samples.MacA));
            foreach (var t in tags) f.AddRange([(byte)(t >> 8), (byte)t, 0x00, 0x2A]); // VLAN 42
            f.AddRange(ip[0] >> 4 == 4 ? [0x08, 0x00] : [0x86, 0xDD]);
            f.AddRange(ip);
            return [.. f];
        }
        Assert.That(Offset(LinkType.Ethernet, Tagged(V6, 0x8100)), Is.EqualTo(18));
        Assert.That(Offset(LinkType.Ethernet, Tagged(V4, 0x88A8, 0x8100)), Is.EqualTo(22));
        Assert.That(Offset(LinkType.Ethernet, Tagged(V4, 0x9100, 0x8100)), Is.EqualTo(22));
        var eight = Tagged(V4, 0x88A8, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100);
        Assert.That(Offset(LinkType.Ethernet, eight), Is.EqualTo(14 + 32));
        var nine = Tagged(V4, 0x88A8, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100);
        Assert.That(Finds(LinkType.Ethernet, nine), Is.False, "more tags than any real network stacks");
    }

    [Test]
    public void EthernetCarryingSomethingElseOrCutShortIsNotIp()
    {
        var arp = Samples.Ethernet(V4);
        arp[12] = 0x08; arp[13] = 0x06;
        Assert.That(Finds(LinkType.Ethernet, arp), Is.False);
        Assert.That(Finds(LinkType.Ethernet, Samples.Ethernet(V4)[..14]), Is.False);
        Assert.That(Finds(LinkType.Ethernet, Samples.Ethernet(V4)[..13]), Is.False);
        var lie = Samples.Ethernet(V6);
        lie[12] = 0x08; lie[13] = 0x00; // says IPv4, holds IPv6
        Assert.That(Finds(LinkType.Ethernet, lie), Is.False);
    }

    [Test]
    public void LinuxCookedV1AndV2()
    {
        var sll = new byte[16 + V6.Length];
        BinaryPrimitives.WriteUInt16BigEndian(sll, 0);       // to us
        BinaryPrimitives.WriteUInt16BigEndian(sll.AsSpan(2), 1);  // ARPHRD_ETHER
        BinaryPrimitives.WriteUInt16BigEndian(sll.AsSpan(4), 6);
        BinaryPrimitives.WriteUInt16BigEndian(sll.AsSpan(14), 0x86DD);
        V6.CopyTo(sll, 16);
        Assert.That(Offset(LinkType.LinuxSll, sll), Is.EqualTo(16));

        var sll2 = new byte[20 + V4.Length];
        BinaryPrimitives.WriteUInt16BigEndian(sll2, 0x0800);
        BinaryPrimitives.WriteUInt32BigEndian(sll2.AsSpan(4), 3); // ifindex
        BinaryPrimitives.WriteUInt16BigEndian(sll2.AsSpan(8), 772); // ARPHRD_LOOPBACK
        V4.CopyTo(sll2, 20);
        Assert.That(Offset(LinkType.LinuxSll2, sll2), Is.EqualTo(20));
        Assert.That(Finds(LinkType.LinuxSll, sll2), Is.False);
        Assert.That(Finds(LinkType.LinuxSll2, sll2[..20]), Is.False);
    }

    [TestCase(2u, true)]
    [TestCase(24u, false)]
    [TestCase(28u, false)]
    [TestCase(30u, false)]
    [TestCase(10u, false)]
    public void NullLoopbackInEitherByteOrder(uint af, bool v4)
    {
        var ip = v4 ? V4 : V6;
        foreach (var big in new[] { false, true })
        {
            var f = new byte[4 + ip.Length];
            if (big) BinaryPrimitives.WriteUInt32BigEndian(f, af); else BinaryPrimitives.WriteUInt32LittleEndian(f, af);
            ip.CopyTo(f, 4);
            Assert.That(Offset(LinkType.Null, f), Is.EqualTo(4));
        }
        var wrong = new byte[4 + ip.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(wrong, 17); // AF_IPX or so
        ip.CopyTo(wrong, 4);
        Assert.That(Finds(LinkType.Null, wrong), Is.False);
    }

    [Test]
    public void UnknownLinkTypeIsNotGuessed()
        => Assert.That(Finds((LinkType)147, V4), Is.False);

    [Test]
    public void EthernetFrameWriteChecksArguments()
    {
        var buf = new byte[EthernetFrame.GetLength(V4.Length)];
        Assert.That(EthernetFrame.Write(buf, Samples.MacB, Samples.MacA, V4), Is.EqualTo(buf.Length));
        Assert.That(buf[14..], Is.EqualTo(V4));
        Assert.Throws<ArgumentException>(() => EthernetFrame.Write(buf, new byte[5], Samples.MacA, EtherType.Ipv4, V4));
        Assert.Throws<ArgumentException>(() => EthernetFrame.Write(new byte[20], Samples.MacB, Samples.MacA, EtherType.Ipv4, V4));
        Assert.Throws<ArgumentException>(() => EthernetFrame.Write(buf, Samples.MacB, Samples.MacA, new byte[] { 0x55, 0 }));
    }
}
