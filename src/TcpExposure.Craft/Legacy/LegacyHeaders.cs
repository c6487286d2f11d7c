namespace TcpExposure.Craft.Legacy;

// The legacy iphdr / tcphdr / etherhdr classes: mutable, attribute names as the Python originals.
#pragma warning disable IDE1006 // legacy lower-case names are the API

/// <summary>The legacy <c>iphdr</c>: host-order integers, names as in tcplib.</summary>
public sealed class LegacyIpHeader
{
    /// <summary>Version, IHL and TOS as one 16-bit word (0x4500 by default).</summary>
    public int inith { get; set; } = 0x4500;
    /// <summary>Total length of the packet in bytes, header included (IPv6: payload length + 40).</summary>
    public int length { get; set; }
    /// <summary>The IP identification field.</summary>
    public int id { get; set; }
    /// <summary>IP flags and fragment offset.</summary>
    public int flags { get; set; }
    /// <summary>Time to live (hop limit for IPv6).</summary>
    public int ttl { get; set; }
    /// <summary>Upper-layer protocol number (6 for TCP).</summary>
    public int proto { get; set; }
    /// <summary>The IP header checksum.</summary>
    public int hdrcksum { get; set; }
    /// <summary>Source address as a host-order integer.</summary>
    public uint srcaddr { get; set; }
    /// <summary>Destination address as a host-order integer.</summary>
    public uint dstaddr { get; set; }
    /// <summary>IP version, 4 or 6.</summary>
    public int version { get; set; }
    /// <summary>Header length in bytes.</summary>
    public int hdrlen { get; set; }
}

/// <summary>The legacy <c>tcphdr</c>.</summary>
public sealed class LegacyTcpHeader
{
    /// <summary>Source port.</summary>
    public int srcport { get; set; }
    /// <summary>Destination port.</summary>
    public int dstport { get; set; }
    /// <summary>Sequence number.</summary>
    public uint seqno { get; set; }
    /// <summary>Acknowledgment number.</summary>
    public uint ackno { get; set; }
    /// <summary>The raw data-offset byte (offset in the high nibble).</summary>
    public int hlen { get; set; }
    /// <summary>TCP flags (all nine bits).</summary>
    public int flag { get; set; }
    /// <summary>The raw receive window field (unscaled).</summary>
    public int window { get; set; }
    /// <summary>The TCP checksum.</summary>
    public int checksum { get; set; }
    /// <summary>The urgent pointer.</summary>
    public int urg { get; set; }
    /// <summary>Raw option bytes.</summary>
    public byte[] option { get; set; } = [];
    /// <summary>Data offset in 32-bit words.</summary>
    public int offset { get; set; }
    /// <summary>Header length in bytes.</summary>
    public int hdrlen { get; set; }
}

/// <summary>The legacy <c>etherhdr</c>.</summary>
public sealed class LegacyEtherHeader(ulong dhost, ulong shost, int type = 0x0800)
{
    /// <summary>Destination MAC address in the low 48 bits.</summary>
    public ulong dhost { get; set; } = dhost;
    /// <summary>Source MAC address in the low 48 bits.</summary>
    public ulong shost { get; set; } = shost;
    /// <summary>EtherType (0x0800 for IPv4).</summary>
    public int type { get; set; } = type;
}

/// <summary>What <c>parse_headers</c> returns: the headers, the options in the tuple model, the payload.</summary>
public sealed record LegacyParsed(LegacyIpHeader Ip, LegacyTcpHeader Tcp, IReadOnlyList<LegacyOption> Options, byte[] Payload);
