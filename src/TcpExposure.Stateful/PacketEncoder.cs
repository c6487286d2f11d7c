using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>Writes IPv4/IPv6 + TCP packets for a connection's segments straight into a buffer (no allocation).</summary>
internal static class PacketEncoder
{
    private static int _ipId;

    public static int HeaderLength(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? 40 : 20;

    /// <summary>
    /// Encodes the whole packet into <paramref name="d"/>; returns its length. With
    /// <paramref name="offloadChecksum"/> the TCP checksum field gets only the pseudo-header sum, for a
    /// kernel or NIC that finishes it (CHECKSUM_PARTIAL), and the payload is never summed here.
    /// </summary>
    public static int Encode(Span<byte> d, in OutgoingSegment s, ReadOnlySpan<byte> src, ushort srcPort, ReadOnlySpan<byte> dst, ushort dstPort, bool offloadChecksum = false)
    {
        bool v6 = src.Length == 16;
        int ipLen = v6 ? 40 : 20;
        int tcpLen = s.WriteTcp(d[ipLen..], srcPort, dstPort);
        var tcp = d.Slice(ipLen, tcpLen);
        uint pseudo;
        if (v6)
        {
            d[0] = 0x60; d[1] = 0; d[2] = 0; d[3] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)tcpLen);
            d[6] = 6;
            d[7] = 64;
            src.CopyTo(d[8..]);
            dst.CopyTo(d[24..]);
            pseudo = Checksum.PseudoHeaderSumV6(src, dst, 6, tcpLen);
        }
        else
        {
            d[0] = 0x45; d[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)(20 + tcpLen));
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)Interlocked.Increment(ref _ipId));
            BinaryPrimitives.WriteUInt16BigEndian(d[6..], 0x4000); // DF
            d[8] = 64;
            d[9] = 6;
            d[10] = 0; d[11] = 0;
            src.CopyTo(d[12..]);
            dst.CopyTo(d[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(d[10..], Checksum.Compute(d[..20]));
            pseudo = Checksum.PseudoHeaderSumV4(src, dst, 6, tcpLen);
        }
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], offloadChecksum ? (ushort)Checksum.Fold(pseudo) : Checksum.ComputeTransport(pseudo, tcp));
        return ipLen + tcpLen;
    }

    /// <summary>
    /// Fixes the lengths of a packet <see cref="Encode"/> wrote with an offloaded checksum after payload
    /// was appended to it: the IP length, the IPv4 header checksum and the TCP pseudo-header sum.
    /// </summary>
    public static void Resize(Span<byte> d, int length)
    {
        bool v6 = d[0] >> 4 == 6;
        int ipLen = v6 ? 40 : 20;
        int tcpLen = length - ipLen;
        uint pseudo;
        if (v6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)tcpLen);
            pseudo = Checksum.PseudoHeaderSumV6(d.Slice(8, 16), d.Slice(24, 16), 6, tcpLen);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)length);
            d[10] = 0; d[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[10..], Checksum.Compute(d[..20]));
            pseudo = Checksum.PseudoHeaderSumV4(d.Slice(12, 4), d.Slice(16, 4), 6, tcpLen);
        }
        BinaryPrimitives.WriteUInt16BigEndian(d[(ipLen + 16)..], (ushort)Checksum.Fold(pseudo));
    }

    public static byte[] AddressBytes(IPAddress a) => a.GetAddressBytes();
}
