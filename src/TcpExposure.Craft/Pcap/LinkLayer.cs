using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>Finds the IP packet inside a captured frame, for the link types captures of TCP use.</summary>
public static class LinkLayer
{
    private const int MaxVlanTags = 8;
    private const int SllHeaderLength = 16;
    private const int Sll2HeaderLength = 20;

    // BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs per system
    // (Linux 10, NetBSD/OpenBSD 24, FreeBSD/DragonFly 28, macOS 30).
    private const uint AfInet = 2;

    /// <summary>
    /// Where the IPv4 or IPv6 header starts in <paramref name="frame"/>. False when the link
    /// type is unknown, the frame is too short, or it carries something other than IP.
    /// </summary>
    public static bool TryGetIpOffset(LinkType linkType, ReadOnlySpan<byte> frame, out int offset)
    {
        offset = 0;
        switch (linkType)
        {
            case LinkType.Raw:
                return IsVersion(frame, 0, 4) || IsVersion(frame, 0, 6);
            case LinkType.Ipv4:
                return IsVersion(frame, 0, 4);
            case LinkType.Ipv6:
                return IsVersion(frame, 0, 6);
            case LinkType.Ethernet:
                return TryEthernet(frame, out offset);
            case LinkType.LinuxSll:
                // packet type, ARPHRD type, address length, 8 address bytes, protocol
                return frame.Length >= SllHeaderLength
                    && IsIpEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[14..]), frame, SllHeaderLength, out offset);
            case LinkType.LinuxSll2:
                // protocol first, then reserved, interface index, ARPHRD type, packet type, address length, 8 address bytes
                return frame.Length >= Sll2HeaderLength
                    && IsIpEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame), frame, Sll2HeaderLength, out offset);
            case LinkType.Null:
                return TryNull(frame, out offset);
            default:
                return false;
        }
    }

    /// <summary>The IP packet inside <paramref name="frame"/>, or false as <see cref="TryGetIpOffset"/>.</summary>
    public static bool TryGetIpPacket(LinkType linkType, ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> ip)
    {
        if (TryGetIpOffset(linkType, frame, out int offset))
        {
            ip = frame[offset..];
            return true;
        }
        ip = default;
        return false;
    }

    private static bool TryEthernet(ReadOnlySpan<byte> frame, out int offset)
    {
        offset = 0;
        int at = 12;
        for (int tags = 0; tags <= MaxVlanTags; tags++)
        {
            if (frame.Length < at + 2)
                return false;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
            if (type is EtherType.Vlan or EtherType.QinQ or EtherType.QinQLegacy)
            {
                at += 4; // the tag control field, then the next EtherType
                continue;
            }
            return IsIpEtherType(type, frame, at + 2, out offset);
        }
        return false;
    }

    private static bool TryNull(ReadOnlySpan<byte> frame, out int offset)
    {
        offset = 0;
        if (frame.Length < 4)
            return false;
        // The family is in the capturing host's byte order, which the file does not record: try both.
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        uint be = BinaryPrimitives.ReadUInt32BigEndian(frame);
        bool v4 = le == AfInet || be == AfInet;
        bool v6 = IsAfInet6(le) || IsAfInet6(be);
        if ((v4 && IsVersion(frame, 4, 4)) || (v6 && IsVersion(frame, 4, 6)))
        {
            offset = 4;
            return true;
        }
        return false;
    }

    private static bool IsAfInet6(uint af) => af is 10 or 24 or 28 or 30;

    private static bool IsIpEtherType(ushort type, ReadOnlySpan<byte> frame, int at, out int offset)
    {
        offset = at;
        return type switch
        {
            EtherType.Ipv4 => IsVersion(frame, at, 4),
            EtherType.Ipv6 => IsVersion(frame, at, 6),
            _ => false,
        };
    }

    private static bool IsVersion(ReadOnlySpan<byte> frame, int at, int version)
        => frame.Length > at && frame[at] >> 4 == version;
}
