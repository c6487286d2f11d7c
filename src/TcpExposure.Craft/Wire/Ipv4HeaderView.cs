using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace TcpExposure.Craft.Wire;

/// <summary>
/// A view over an IPv4 header. Built only by <see cref="TryCreate"/>, which checks that the
/// 20-byte fixed part and the IHL-declared options are present, so no accessor reads out of bounds.
/// </summary>
public readonly ref struct Ipv4HeaderView
{
    /// <summary>The header bytes, exactly IHL*4 long.</summary>
    public readonly ReadOnlySpan<byte> Bytes;

    private Ipv4HeaderView(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    /// <summary>The fixed header length.</summary>
    public const int MinLength = 20;

    /// <summary>Wraps the header at the start of <paramref name="packet"/>; false when it is short or not IPv4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryCreate(ReadOnlySpan<byte> packet, out Ipv4HeaderView view)
    {
        view = default;
        if (packet.Length < MinLength || packet[0] >> 4 != 4)
            return false;
        int ihl = (packet[0] & 0x0F) * 4;
        if (ihl < MinLength || ihl > packet.Length)
            return false;
        view = new Ipv4HeaderView(packet[..ihl]);
        return true;
    }

    /// <summary>The version nibble (4 for any view <see cref="TryCreate"/> built).</summary>
    public int Version => Bytes[0] >> 4;
    /// <summary>Header length in bytes (IHL * 4).</summary>
    public int HeaderLength => (Bytes[0] & 0x0F) * 4;
    /// <summary>The TOS byte: DSCP in the high 6 bits, ECN in the low 2 (RFC 2474, RFC 3168).</summary>
    public byte Tos => Bytes[1];
    /// <summary>Total length of the datagram in bytes, header included, as declared.</summary>
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(Bytes[2..]);
    /// <summary>The IP ID used to reassemble fragments (RFC 6864).</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(Bytes[4..]);
    /// <summary>The 3 flag bits and 13-bit fragment offset as one word.</summary>
    public ushort FlagsAndFragment => BinaryPrimitives.ReadUInt16BigEndian(Bytes[6..]);
    /// <summary>The reserved flag bit, which must be zero.</summary>
    public bool ReservedFlag => (FlagsAndFragment & 0x8000) != 0;
    /// <summary>Flag DF: routers must not fragment this datagram (path MTU discovery relies on it).</summary>
    public bool DontFragment => (FlagsAndFragment & 0x4000) != 0;
    /// <summary>Flag MF: more fragments of this datagram follow.</summary>
    public bool MoreFragments => (FlagsAndFragment & 0x2000) != 0;
    /// <summary>Fragment offset in 8-byte units.</summary>
    public ushort FragmentOffset => (ushort)(FlagsAndFragment & 0x1FFF);
    /// <summary>Time to live: hops left before a router drops the datagram.</summary>
    public byte Ttl => Bytes[8];
    /// <summary>The upper-layer protocol number (6 for TCP).</summary>
    public byte Protocol => Bytes[9];
    /// <summary>The header checksum as found (see <see cref="ChecksumValid"/>).</summary>
    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(Bytes[10..]);
    /// <summary>The 4 source address bytes, network order.</summary>
    public ReadOnlySpan<byte> Source => Bytes.Slice(12, 4);
    /// <summary>The 4 destination address bytes, network order.</summary>
    public ReadOnlySpan<byte> Destination => Bytes.Slice(16, 4);
    /// <summary>Source address as a host-order integer (the legacy representation).</summary>
    public uint SourceValue => BinaryPrimitives.ReadUInt32BigEndian(Bytes[12..]);
    /// <summary>Destination address as a host-order integer (the legacy representation).</summary>
    public uint DestinationValue => BinaryPrimitives.ReadUInt32BigEndian(Bytes[16..]);
    /// <summary>The IP option bytes between the fixed header and IHL*4 (empty when IHL is 5).</summary>
    public ReadOnlySpan<byte> Options => Bytes[MinLength..];
    /// <summary>True when the header checksum is right.</summary>
    public bool ChecksumValid => Checksum.Fold(Checksum.Sum(Bytes)) == 0xFFFF;
}
