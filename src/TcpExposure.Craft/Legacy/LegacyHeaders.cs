namespace TcpExposure.Craft.Legacy;

// The legacy iphdr / tcphdr / etherhdr classes: mutable, attribute names as the Python originals.
#pragma warning disable IDE1006 // legacy lower-case names are the API

/// <summary>The legacy <c>iphdr</c>: host-order integers, names as in tcplib.</summary>
public sealed class LegacyIpHeader
{
    /// <summary>Version, IHL and TOS as one 16-bit word (0x4500 by default).</summary>
    public int inith { get; set; } = 0x4500;
    public int length { get; set; }
    public int id { get; set; }
    /// <summary>IP flags and fragment offset.</summary>
    public int flags { get; set; }
    public int ttl { get; set; }
    public int proto { get; set; }
    public int hdrcksum { get; set; }
    public uint srcaddr { get; set; }
    public uint dstaddr { get; set; }
    public int version { get; set; }
    /// <summary>Header length in bytes.</summary>
    public int hdrlen { get; set; }
}

/// <summary>The legacy <c>tcphdr</c>.</summary>
public sealed class LegacyTcpHeader
{
    public int srcport { get; set; }
    public int dstport { get; set; }
    public uint seqno { get; set; }
    public uint ackno { get; set; }
    /// <summary>The raw data-offset byte (offset in the high nibble).</summary>
    public int hlen { get; set; }
    /// <summary>TCP flags (all nine bits).</summary>
    public int flag { get; set; }
    public int window { get; set; }
    public int checksum { get; set; }
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
    public ulong dhost { get; set; } = dhost;
    public ulong shost { get; set; } = shost;
    public int type { get; set; } = type;
}

/// <summary>What <c>parse_headers</c> returns: the headers, the options in the tuple model, the payload.</summary>
public sealed record LegacyParsed(LegacyIpHeader Ip, LegacyTcpHeader Tcp, IReadOnlyList<LegacyOption> Options, byte[] Payload);
