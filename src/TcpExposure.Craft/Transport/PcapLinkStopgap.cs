using System.Buffers.Binary;

namespace TcpExposure.Craft.Transport;

// Stopgap until the pcap branch's LinkType / LinkLayer / EthernetFrame are in main: the link
// layers the libpcap transport strips on receive and writes on send.
internal static class PcapLinkStopgap
{
    public const int Null = 0, Ethernet = 1, RawBsd = 12, RawOpenBsd = 14, Loop = 108, LinuxSll = 113, RawLinkType = 101, Ipv4 = 228, Ipv6 = 229, LinuxSll2 = 276;

    /// <summary>Offset of the IP header in a frame of link type <paramref name="dlt"/>; false when it does not carry IP.</summary>
    public static bool TryGetIpOffset(int dlt, ReadOnlySpan<byte> frame, out int offset)
    {
        offset = 0;
        switch (dlt)
        {
            case RawBsd or RawOpenBsd or RawLinkType or Ipv4 or Ipv6:
                return frame.Length > 0 && (frame[0] >> 4) is 4 or 6;
            case Ethernet:
            {
                if (frame.Length < 14) return false;
                int at = 12;
                ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
                while (type is 0x8100 or 0x88A8 && frame.Length >= at + 6)
                {
                    at += 4;
                    type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
                }
                offset = at + 2;
                return type is 0x0800 or 0x86DD && frame.Length > offset;
            }
            case LinuxSll:
            {
                if (frame.Length < 16) return false;
                offset = 16;
                return BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) is 0x0800 or 0x86DD;
            }
            case LinuxSll2:
            {
                if (frame.Length < 20) return false;
                offset = 20;
                return BinaryPrimitives.ReadUInt16BigEndian(frame) is 0x0800 or 0x86DD;
            }
            case Null or Loop:
            {
                if (frame.Length < 4) return false;
                uint family = dlt == Loop ? BinaryPrimitives.ReadUInt32BigEndian(frame) : BinaryPrimitives.ReadUInt32LittleEndian(frame);
                offset = 4;
                return family is 2 or 10 or 24 or 28 or 30;
            }
            default:
                return false;
        }
    }

    /// <summary>Bytes of link header written before an IP packet on <paramref name="dlt"/>; -1 when we cannot send on it.</summary>
    public static int HeaderLength(int dlt) => dlt switch
    {
        Ethernet => 14,
        RawBsd or RawOpenBsd or RawLinkType or Ipv4 or Ipv6 => 0,
        Null or Loop => 4,
        _ => -1, // SLL/SLL2 are capture-only pseudo headers ("any" device): nothing can be injected there
    };

    /// <summary>Writes the link header for <paramref name="ipVersion"/>.</summary>
    public static void WriteHeader(int dlt, Span<byte> d, int ipVersion, ReadOnlySpan<byte> sourceMac, ReadOnlySpan<byte> destinationMac)
    {
        switch (dlt)
        {
            case Ethernet:
                destinationMac.CopyTo(d);
                sourceMac.CopyTo(d[6..]);
                BinaryPrimitives.WriteUInt16BigEndian(d[12..], ipVersion == 6 ? (ushort)0x86DD : (ushort)0x0800);
                break;
            case Null:
                BinaryPrimitives.WriteUInt32LittleEndian(d, ipVersion == 6 ? 10u : 2u);
                break;
            case Loop:
                BinaryPrimitives.WriteUInt32BigEndian(d, ipVersion == 6 ? 10u : 2u);
                break;
        }
    }
}
