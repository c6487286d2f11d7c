namespace TcpExposure.Craft.Pcap;

/// <summary>EtherType values the link-layer code knows.</summary>
public static class EtherType
{
    /// <summary>IPv4.</summary>
    public const ushort Ipv4 = 0x0800;
    /// <summary>ARP.</summary>
    public const ushort Arp = 0x0806;
    /// <summary>802.1Q VLAN tag (C-tag).</summary>
    public const ushort Vlan = 0x8100;
    /// <summary>IPv6.</summary>
    public const ushort Ipv6 = 0x86DD;
    /// <summary>802.1ad service tag (S-tag, the outer tag of QinQ).</summary>
    public const ushort QinQ = 0x88A8;
    /// <summary>The pre-standard QinQ outer tag some switches still send.</summary>
    public const ushort QinQLegacy = 0x9100;

    /// <summary>The EtherType for an IP packet, from its version nibble; 0 when it is neither 4 nor 6.</summary>
    public static ushort ForIpPacket(ReadOnlySpan<byte> ip)
    {
        if (ip.IsEmpty) return 0;
        return (ip[0] >> 4) switch
        {
            4 => Ipv4,
            6 => Ipv6,
            _ => (ushort)0,
        };
    }
}
