using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>Builds Ethernet II frames around IP packets (no FCS, no padding: what pcap files and AF_PACKET carry).</summary>
public static class EthernetFrame
{
    /// <summary>Bytes of an untagged Ethernet header.</summary>
    public const int HeaderLength = 14;
    /// <summary>Bytes of a MAC address.</summary>
    public const int AddressLength = 6;

    /// <summary>Bytes a Write produces for <paramref name="payloadLength"/> bytes of payload.</summary>
    public static int GetLength(int payloadLength) => HeaderLength + payloadLength;

    /// <summary>
    /// Writes destination MAC, source MAC, <paramref name="etherType"/> and <paramref name="ip"/>
    /// into <paramref name="destination"/>; returns the bytes written. Throws when a MAC is not
    /// 6 bytes or the buffer is too small.
    /// </summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> dstMac, ReadOnlySpan<byte> srcMac, ushort etherType, ReadOnlySpan<byte> ip)
    {
        if (dstMac.Length != AddressLength)
            throw new ArgumentException($"A MAC address is 6 bytes, not {dstMac.Length}.", nameof(dstMac));
        if (srcMac.Length != AddressLength)
            throw new ArgumentException($"A MAC address is 6 bytes, not {srcMac.Length}.", nameof(srcMac));
        int length = HeaderLength + ip.Length;
        if (destination.Length < length)
            throw new ArgumentException($"The buffer holds {destination.Length} bytes; the frame needs {length}.", nameof(destination));
        dstMac.CopyTo(destination);
        srcMac.CopyTo(destination[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], etherType);
        ip.CopyTo(destination[HeaderLength..]);
        return length;
    }

    /// <summary>As the other Write, with the EtherType taken from the IP version nibble.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> dstMac, ReadOnlySpan<byte> srcMac, ReadOnlySpan<byte> ip)
    {
        ushort type = EtherType.ForIpPacket(ip);
        if (type == 0)
            throw new ArgumentException("The packet is neither IPv4 nor IPv6 (version nibble); give the EtherType explicitly.", nameof(ip));
        return Write(destination, dstMac, srcMac, type, ip);
    }
}
