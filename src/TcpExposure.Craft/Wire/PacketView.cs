using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace TcpExposure.Craft.Wire;

/// <summary>Why a packet could not be read as IP + TCP.</summary>
public enum PacketStatus : byte
{
    /// <summary>An IP packet carrying a TCP header.</summary>
    Tcp,
    /// <summary>Too short for the IP header, or the version nibble is neither 4 nor 6.</summary>
    NotIp,
    /// <summary>A readable IP packet whose payload is not TCP (see <see cref="PacketView.Protocol"/>).</summary>
    NotTcp,
    /// <summary>The TCP header is shorter than 20 bytes, or an IPv6 extension header is cut off.</summary>
    TruncatedTcp,
}

/// <summary>
/// An IPv4 or IPv6 packet carrying TCP, read in place. This is the zero-copy entry point for
/// every receive path: transports hand bytes here, consumers read fields from the views.
/// </summary>
public readonly ref struct PacketView
{
    /// <summary>The whole packet, starting at the IP header.</summary>
    public readonly ReadOnlySpan<byte> Bytes;
    /// <summary>The IPv4 header; default when <see cref="IsIpv6"/>.</summary>
    public readonly Ipv4HeaderView Ipv4;
    /// <summary>The IPv6 base header; default when IPv4.</summary>
    public readonly Ipv6HeaderView Ipv6;
    /// <summary>The TCP header, options and payload.</summary>
    public readonly TcpHeaderView Tcp;
    /// <summary>True for an IPv6 packet, false for IPv4.</summary>
    public readonly bool IsIpv6;
    /// <summary>The upper-layer protocol (6 for TCP).</summary>
    public readonly byte Protocol;
    /// <summary>Offset of the transport header within <see cref="Bytes"/>.</summary>
    public readonly int TransportOffset;
    /// <summary>The IP length field disagrees with the bytes present (cut off, or longer than declared).</summary>
    public readonly bool LengthMismatch;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PacketView(ReadOnlySpan<byte> bytes, Ipv4HeaderView v4, Ipv6HeaderView v6, TcpHeaderView tcp,
        bool isIpv6, byte protocol, int transportOffset, bool lengthMismatch)
    {
        Bytes = bytes;
        Ipv4 = v4;
        Ipv6 = v6;
        Tcp = tcp;
        IsIpv6 = isIpv6;
        Protocol = protocol;
        TransportOffset = transportOffset;
        LengthMismatch = lengthMismatch;
    }

    /// <summary>The bytes after the IP header(s), whatever the protocol.</summary>
    public ReadOnlySpan<byte> Transport => Bytes[TransportOffset..];

    /// <summary>The address family of the IP header.</summary>
    public AddressFamily Family => IsIpv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
    /// <summary>The source address bytes (4 or 16), network order.</summary>
    public ReadOnlySpan<byte> Source => IsIpv6 ? Ipv6.Source : Ipv4.Source;
    /// <summary>The destination address bytes (4 or 16), network order.</summary>
    public ReadOnlySpan<byte> Destination => IsIpv6 ? Ipv6.Destination : Ipv4.Destination;
    /// <summary>TTL or hop limit.</summary>
    public byte Ttl => IsIpv6 ? Ipv6.HopLimit : Ipv4.Ttl;

    /// <summary>Sum of the TCP pseudo-header for this packet.</summary>
    public uint PseudoHeaderSum => IsIpv6
        ? Checksum.PseudoHeaderSumV6(Ipv6.Source, Ipv6.Destination, 6, Tcp.Bytes.Length)
        : Checksum.PseudoHeaderSumV4(Ipv4.Source, Ipv4.Destination, 6, Tcp.Bytes.Length);

    /// <summary>True when the TCP checksum is right.</summary>
    public bool TcpChecksumValid => Checksum.VerifyTransport(PseudoHeaderSum, Tcp.Bytes);

    /// <summary>Reads <paramref name="packet"/>. Never throws; anything that can be read is.</summary>
    public static PacketStatus TryParse(ReadOnlySpan<byte> packet, out PacketView view)
    {
        view = default;
        if (packet.IsEmpty)
            return PacketStatus.NotIp;
        int version = packet[0] >> 4;
        if (version == 4)
        {
            if (!Ipv4HeaderView.TryCreate(packet, out var v4))
                return PacketStatus.NotIp;
            int total = v4.TotalLength;
            bool mismatch = total != packet.Length;
            // Trust the total length when it fits (it trims link-layer padding); else take what is there.
            if (total >= v4.HeaderLength && total <= packet.Length)
                packet = packet[..total];
            int at = v4.HeaderLength;
            if (v4.Protocol != 6 || v4.FragmentOffset != 0)
            {
                view = new PacketView(packet, v4, default, default, false, v4.Protocol, at, mismatch);
                return PacketStatus.NotTcp;
            }
            if (!TcpHeaderView.TryCreate(packet[at..], out var tcp))
            {
                view = new PacketView(packet, v4, default, default, false, v4.Protocol, at, mismatch);
                return PacketStatus.TruncatedTcp;
            }
            view = new PacketView(packet, v4, default, tcp, false, 6, at, mismatch);
            return PacketStatus.Tcp;
        }
        if (version == 6)
        {
            if (!Ipv6HeaderView.TryCreate(packet, out var v6))
                return PacketStatus.NotIp;
            int total = Ipv6HeaderView.Length + v6.PayloadLength;
            bool mismatch = total != packet.Length;
            if (total <= packet.Length)
                packet = packet[..total];
            if (!Ipv6HeaderView.TrySkipExtensions(packet, v6.NextHeader, out byte proto, out int at))
            {
                view = new PacketView(packet, default, v6, default, true, v6.NextHeader, Ipv6HeaderView.Length, mismatch);
                return PacketStatus.TruncatedTcp;
            }
            if (proto != 6)
            {
                view = new PacketView(packet, default, v6, default, true, proto, at, mismatch);
                return PacketStatus.NotTcp;
            }
            if (!TcpHeaderView.TryCreate(packet[at..], out var tcp))
            {
                view = new PacketView(packet, default, v6, default, true, proto, at, mismatch);
                return PacketStatus.TruncatedTcp;
            }
            view = new PacketView(packet, default, v6, tcp, true, 6, at, mismatch);
            return PacketStatus.Tcp;
        }
        return PacketStatus.NotIp;
    }
}
