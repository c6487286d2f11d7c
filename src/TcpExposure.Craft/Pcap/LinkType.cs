namespace TcpExposure.Craft.Pcap;

/// <summary>
/// The link-layer header type of a capture (the LINKTYPE_ values of the tcpdump.org registry,
/// which pcap and pcapng files store). Other values read from a file are kept as they are.
/// </summary>
public enum LinkType : uint
{
    /// <summary>BSD loopback: a 4-byte address family in the capturing host's byte order.</summary>
    Null = 0,
    /// <summary>Ethernet II (802.3), optionally with 802.1Q / 802.1ad tags.</summary>
    Ethernet = 1,
    /// <summary>Raw IP: the frame starts with an IPv4 or IPv6 header.</summary>
    Raw = 101,
    /// <summary>Linux "cooked" capture v1 (16-byte header), as from <c>tcpdump -i any</c>.</summary>
    LinuxSll = 113,
    /// <summary>Raw IPv4 only.</summary>
    Ipv4 = 228,
    /// <summary>Raw IPv6 only.</summary>
    Ipv6 = 229,
    /// <summary>Linux "cooked" capture v2 (20-byte header).</summary>
    LinuxSll2 = 276,
}
