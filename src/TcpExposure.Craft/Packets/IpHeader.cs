using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Packets;

/// <summary>The IP layer of a crafted or parsed segment: <see cref="Ipv4Header"/> or <see cref="Ipv6Header"/>.</summary>
public abstract record IpHeader
{
    /// <summary>Source address; its family must match the header's.</summary>
    public required IPAddress Source
    {
        get;
        init
        {
            field = value;
            _source4 = Ipv4Value(value);
        }
    }

    /// <summary>Destination address.</summary>
    public required IPAddress Destination
    {
        get;
        init
        {
            field = value;
            _destination4 = Ipv4Value(value);
        }
    }

    // The IPv4 addresses as big-endian integers (high bit 32 set when not IPv4), taken once when the
    // address is set: the encoder writes them with one store each instead of asking IPAddress for
    // its bytes on every packet. Pure functions of the addresses, so record equality is unaffected.
    private protected readonly ulong _source4 = NotIpv4, _destination4 = NotIpv4;
    private protected const ulong NotIpv4 = 1UL << 32;

    private static ulong Ipv4Value(IPAddress? address)
    {
        Span<byte> b = stackalloc byte[4];
        return address is not null && address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(b, out _)
            ? BinaryPrimitives.ReadUInt32BigEndian(b) : NotIpv4;
    }
    /// <summary>The protocol (IPv4) or next header (IPv6) field. 6 is TCP.</summary>
    public byte Protocol { get; init; } = 6;
    /// <summary>TTL or hop limit.</summary>
    public byte Ttl { get; init; } = 64;

    /// <summary>Bytes the IP header occupies.</summary>
    public abstract int HeaderLength { get; }
    /// <summary>Writes the header for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public abstract void Write(Span<byte> destination, int payloadLength);
    /// <summary>The pseudo-header sum for an upper-layer segment of <paramref name="length"/> bytes.</summary>
    public abstract uint PseudoHeaderSum(int length);
    /// <summary>
    /// The pseudo-header sum read from a header this instance has just written into
    /// <paramref name="writtenHeader"/> (cheaper than converting the addresses again).
    /// </summary>
    public virtual uint PseudoHeaderSum(ReadOnlySpan<byte> writtenHeader, int length) => PseudoHeaderSum(length);
    /// <summary>The address family this header carries.</summary>
    public abstract AddressFamily Family { get; }

    /// <summary>
    /// True when the header's bytes are fixed once built (no caller-owned option or extension
    /// memory), so a segment may cache its encoding. Addresses count as fixed: an IPv4 address is
    /// read when it is set, and mutating an <see cref="IPAddress"/> afterwards is not supported.
    /// </summary>
    internal virtual bool IsFrozen => false;

    /// <summary>Writes <paramref name="address"/> into exactly <paramref name="destination"/>; throws when the family does not fit.</summary>
    private protected static void WriteAddress(IPAddress address, Span<byte> destination, string field)
    {
        if (!address.TryWriteBytes(destination, out int n) || n != destination.Length)
            throw new InvalidOperationException($"The {field} address {address} is not an IPv{(destination.Length == 4 ? 4 : 6)} address, so it cannot go in this header.");
    }
}

/// <summary>
/// An IPv4 header (RFC 791). Every field can be set; <see cref="Checksum"/>,
/// <see cref="TotalLength"/> and <see cref="HeaderLengthWords"/> are computed unless given,
/// so a wrong one can be written on purpose.
/// </summary>
public sealed record Ipv4Header : IpHeader
{
    /// <summary>The TOS byte: DSCP in the high 6 bits, ECN in the low 2 (RFC 3168).</summary>
    public byte Tos { get; init; }
    /// <summary>The IP ID, used to reassemble fragments (RFC 6864).</summary>
    public ushort Identification { get; init; }
    /// <summary>The reserved flag bit, which must be zero; set it to see who drops or clears it.</summary>
    public bool ReservedFlag { get; init; }
    /// <summary>Flag DF: routers must not fragment the datagram.</summary>
    public bool DontFragment { get; init; }
    /// <summary>Flag MF: more fragments of this datagram follow.</summary>
    public bool MoreFragments { get; init; }
    /// <summary>Fragment offset in 8-byte units (13 bits).</summary>
    public ushort FragmentOffset { get; init; }
    /// <summary>IP options, written as given after the fixed header; padded with zeros to a multiple of 4.</summary>
    public ReadOnlyMemory<byte> Options { get; init; }
    /// <summary>The IHL field to write instead of the real one (in 32-bit words, 0-15).</summary>
    public byte? HeaderLengthWords { get; init; }
    /// <summary>The total length to write instead of the real one.</summary>
    public ushort? TotalLength { get; init; }
    /// <summary>The header checksum to write instead of the computed one (0 leaves it for the kernel).</summary>
    public ushort? Checksum { get; init; }
    /// <summary>The version nibble (4 unless crafting nonsense).</summary>
    public byte Version { get; init; } = 4;

    /// <inheritdoc/>
    public override AddressFamily Family => AddressFamily.InterNetwork;
    internal override bool IsFrozen => Options.IsEmpty;
    /// <inheritdoc/>
    public override int HeaderLength => 20 + ((Options.Length + 3) & ~3);

    /// <inheritdoc/>
    public override void Write(Span<byte> d, int payloadLength)
    {
        int hl = HeaderLength;
        var h = d[..hl];
        // Three 32-bit stores for the first 12 bytes (checksum zero until computed below).
        uint w0 = ((uint)((Version << 4) | ((HeaderLengthWords ?? (byte)(hl / 4)) & 0x0F)) << 24)
            | ((uint)Tos << 16) | (TotalLength ?? (ushort)(hl + payloadLength));
        uint w1 = ((uint)Identification << 16) | (uint)((ReservedFlag ? 0x8000 : 0)
            | (DontFragment ? 0x4000 : 0) | (MoreFragments ? 0x2000 : 0) | (FragmentOffset & 0x1FFF));
        uint w2 = ((uint)Ttl << 24) | ((uint)Protocol << 16);
        BinaryPrimitives.WriteUInt32BigEndian(h, w0);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], w1);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], w2);
        if ((_source4 | _destination4) < NotIpv4)
            BinaryPrimitives.WriteUInt64BigEndian(h[12..], (_source4 << 32) | _destination4);
        else
        {
            WriteAddress(Source, h.Slice(12, 4), "source");
            WriteAddress(Destination, h.Slice(16, 4), "destination");
        }
        if (hl > 20)
        {
            Options.Span.CopyTo(h[20..]);
            h[(20 + Options.Length)..].Clear();
        }
        ushort sum;
        if (Checksum is { } given)
            sum = given;
        else if (hl == 20)
        {
            // The header is the five words just built: sum them as integers instead of re-reading it.
            uint s = BinaryPrimitives.ReadUInt32BigEndian(h[12..]), t = BinaryPrimitives.ReadUInt32BigEndian(h[16..]);
            sum = Wire.Checksum.Finish(Wire.Checksum.Fold((ulong)(w0 >> 16) + (w0 & 0xFFFF) + (w1 >> 16) + (w1 & 0xFFFF)
                + (w2 >> 16) + (s >> 16) + (s & 0xFFFF) + (t >> 16) + (t & 0xFFFF)));
        }
        else
            sum = Wire.Checksum.Compute(h);
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], sum);
    }

    /// <inheritdoc/>
    public override uint PseudoHeaderSum(int length) => Wire.Checksum.PseudoHeaderSum(Source, Destination, Protocol, length);

    // Source and destination as read back from the written header: two loads and a few adds.
    /// <inheritdoc/>
    public override uint PseudoHeaderSum(ReadOnlySpan<byte> writtenHeader, int length)
    {
        uint s = BinaryPrimitives.ReadUInt32BigEndian(writtenHeader[12..]), d = BinaryPrimitives.ReadUInt32BigEndian(writtenHeader[16..]);
        return Wire.Checksum.Fold((ulong)(s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + Protocol + (uint)length);
    }
}

/// <summary>
/// An IPv6 base header (RFC 8200), optionally followed by extension headers given as raw bytes
/// (the parser keeps the ones it skipped there, so parse then encode gives the same packet).
/// </summary>
public sealed record Ipv6Header : IpHeader
{
    /// <summary>The traffic class byte: DSCP in the high 6 bits, ECN in the low 2.</summary>
    public byte TrafficClass { get; init; }
    /// <summary>Flow label (20 bits).</summary>
    public uint FlowLabel { get; init; }
    /// <summary>The payload length to write instead of the real one.</summary>
    public ushort? PayloadLength { get; init; }
    /// <summary>
    /// Extension headers written as given between the base header and TCP. Their next-header
    /// chain is the caller's: <see cref="IpHeader.Protocol"/> names the first, the last names TCP.
    /// </summary>
    public ReadOnlyMemory<byte> ExtensionHeaders { get; init; }

    /// <inheritdoc/>
    public override AddressFamily Family => AddressFamily.InterNetworkV6;
    internal override bool IsFrozen => ExtensionHeaders.IsEmpty;
    /// <inheritdoc/>
    public override int HeaderLength => 40 + ExtensionHeaders.Length;

    // The pseudo-header names the upper-layer protocol: the next header field when nothing is in between.
    private byte UpperLayerProtocol => ExtensionHeaders.IsEmpty ? Protocol : (byte)6;

    /// <inheritdoc/>
    public override void Write(Span<byte> d, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, (6u << 28) | ((uint)TrafficClass << 20) | (FlowLabel & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], PayloadLength ?? (ushort)(ExtensionHeaders.Length + payloadLength));
        d[6] = Protocol;
        d[7] = Ttl;
        WriteAddress(Source, d.Slice(8, 16), "source");
        WriteAddress(Destination, d.Slice(24, 16), "destination");
        ExtensionHeaders.Span.CopyTo(d[40..]);
    }

    /// <inheritdoc/>
    public override uint PseudoHeaderSum(int length) => Wire.Checksum.PseudoHeaderSum(Source, Destination, UpperLayerProtocol, length);

    /// <inheritdoc/>
    public override uint PseudoHeaderSum(ReadOnlySpan<byte> writtenHeader, int length)
        => Wire.Checksum.Sum(writtenHeader.Slice(8, 32), Wire.Checksum.Fold((ulong)UpperLayerProtocol + (uint)(length >> 16) + (uint)(length & 0xFFFF)));
}
