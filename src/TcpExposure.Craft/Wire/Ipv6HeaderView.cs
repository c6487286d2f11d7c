using System.Buffers.Binary;

namespace TcpExposure.Craft.Wire;

/// <summary>A view over the 40-byte IPv6 base header.</summary>
public readonly ref struct Ipv6HeaderView
{
    /// <summary>The 40 header bytes.</summary>
    public readonly ReadOnlySpan<byte> Bytes;

    private Ipv6HeaderView(ReadOnlySpan<byte> bytes) => Bytes = bytes;

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

    public byte TrafficClass => (byte)((BinaryPrimitives.ReadUInt16BigEndian(Bytes) >> 4) & 0xFF);
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(Bytes) & 0xFFFFF;
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(Bytes[4..]);
    public byte NextHeader => Bytes[6];
    public byte HopLimit => Bytes[7];
    public ReadOnlySpan<byte> Source => Bytes.Slice(8, 16);
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
