using System.Buffers.Binary;

namespace TcpExposure.Craft.Wire;

/// <summary>A view over the 40-byte IPv6 base header.</summary>
public readonly ref struct Ipv6HeaderView
{
    /// <summary>The 40 header bytes.</summary>
    public readonly ReadOnlySpan<byte> Bytes;

    private Ipv6HeaderView(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    /// <summary>The base header length in bytes.</summary>
    public const int Length = 40;

    /// <summary>Wraps the header at the start of <paramref name="packet"/>; false when it is short or not IPv6.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> packet, out Ipv6HeaderView view)
    {
        view = default;
        if (packet.Length < Length || packet[0] >> 4 != 6)
            return false;
        view = new Ipv6HeaderView(packet[..Length]);
        return true;
    }

    /// <summary>The traffic class byte: DSCP in the high 6 bits, ECN in the low 2.</summary>
    public byte TrafficClass => (byte)((BinaryPrimitives.ReadUInt16BigEndian(Bytes) >> 4) & 0xFF);
    /// <summary>The 20-bit flow label (RFC 6437).</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(Bytes) & 0xFFFFF;
    /// <summary>Bytes after the 40-byte base header, extension headers included, as declared.</summary>
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(Bytes[4..]);
    /// <summary>The protocol number of the header after the base header (an extension header or 6 for TCP).</summary>
    public byte NextHeader => Bytes[6];
    /// <summary>Hops left before a router drops the packet (IPv6's TTL).</summary>
    public byte HopLimit => Bytes[7];
    /// <summary>The 16 source address bytes, network order.</summary>
    public ReadOnlySpan<byte> Source => Bytes.Slice(8, 16);
    /// <summary>The 16 destination address bytes, network order.</summary>
    public ReadOnlySpan<byte> Destination => Bytes.Slice(24, 16);

    /// <summary>
    /// Skips extension headers after the base header. Returns the upper-layer protocol and its
    /// offset from the start of the packet, or false when a header is truncated. A non-first
    /// fragment stops the walk with protocol 44 at the fragment header.
    /// </summary>
    public static bool TrySkipExtensions(ReadOnlySpan<byte> packet, byte first, out byte protocol, out int offset)
    {
        protocol = first;
        offset = Length;
        for (int guard = 0; guard < 16; guard++)
        {
            switch (protocol)
            {
                case 0 or 43 or 60 or 135 or 139 or 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
                    if (offset + 8 > packet.Length) return false;
                    protocol = packet[offset];
                    offset += (packet[offset + 1] + 1) * 8;
                    break;
                case 44: // fragment
                    if (offset + 8 > packet.Length) return false;
                    // A non-first fragment carries no upper-layer header: report the fragment header itself.
                    if ((BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) & 0xFFF8) != 0) return true;
                    protocol = packet[offset];
                    offset += 8;
                    break;
                case 51: // authentication header: length in 4-byte units minus 2
                    if (offset + 8 > packet.Length) return false;
                    protocol = packet[offset];
                    offset += (packet[offset + 1] + 2) * 4;
                    break;
                default:
                    return offset <= packet.Length;
            }
        }
        return false;
    }
}
