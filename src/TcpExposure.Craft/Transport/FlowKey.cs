using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The addresses and ports of a TCP segment, as a small value: the key answers are matched on.
/// IPv4 addresses sit in the first 4 of the 16 address bytes.
/// </summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    private readonly Address16 _src;
    private readonly Address16 _dst;

    /// <summary>True for IPv6.</summary>
    public bool IsIpv6 { get; }
    /// <summary>The sender's port.</summary>
    public ushort SourcePort { get; }
    /// <summary>The receiver's port.</summary>
    public ushort DestinationPort { get; }

    [InlineArray(16)]
    private struct Address16 { private byte _b; }

    private FlowKey(bool v6, ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, ushort sport, ushort dport)
    {
        IsIpv6 = v6;
        src.CopyTo(_src);
        dst.CopyTo(_dst);
        SourcePort = sport;
        DestinationPort = dport;
    }

    /// <summary>The key of the IP+TCP packet <paramref name="packet"/>; false when it is not one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out FlowKey key)
    {
        if (PacketView.TryParse(packet, out var v) != PacketStatus.Tcp)
        {
            key = default;
            return false;
        }
        key = new FlowKey(v.IsIpv6, v.Source, v.Destination, v.Tcp.SourcePort, v.Tcp.DestinationPort);
        return true;
    }

    /// <summary>
    /// Reads the key from the first bytes of an IP packet that may be cut short after the first 8
    /// bytes of TCP (what an ICMP error quotes). False when those bytes are not there or not TCP.
    /// </summary>
    public static bool TryReadQuoted(ReadOnlySpan<byte> quoted, out FlowKey key)
    {
        key = default;
        if (quoted.IsEmpty) return false;
        int version = quoted[0] >> 4;
        if (version == 4)
        {
            if (quoted.Length < 20) return false;
            int ihl = (quoted[0] & 0x0F) * 4;
            if (ihl < 20 || quoted[9] != 6 || quoted.Length < ihl + 4) return false;
            key = new FlowKey(false, quoted.Slice(12, 4), quoted.Slice(16, 4),
                BinaryPrimitives.ReadUInt16BigEndian(quoted[ihl..]), BinaryPrimitives.ReadUInt16BigEndian(quoted[(ihl + 2)..]));
            return true;
        }
        if (version == 6)
        {
            if (quoted.Length < 40) return false;
            if (!Ipv6HeaderView.TrySkipExtensions(quoted, quoted[6], out byte proto, out int at) || proto != 6 || quoted.Length < at + 4)
                return false;
            key = new FlowKey(true, quoted.Slice(8, 16), quoted.Slice(24, 16),
                BinaryPrimitives.ReadUInt16BigEndian(quoted[at..]), BinaryPrimitives.ReadUInt16BigEndian(quoted[(at + 2)..]));
            return true;
        }
        return false;
    }

    /// <summary>The key of the answer direction: addresses and ports swapped.</summary>
    public FlowKey Reversed() => new(IsIpv6, _dst, _src, DestinationPort, SourcePort);

    private int AddressLength => IsIpv6 ? 16 : 4;
    /// <summary>The source address.</summary>
    public IPAddress Source => new(((ReadOnlySpan<byte>)_src)[..AddressLength]);
    /// <summary>The destination address.</summary>
    public IPAddress Destination => new(((ReadOnlySpan<byte>)_dst)[..AddressLength]);

    /// <inheritdoc/>
    public bool Equals(FlowKey other)
        => IsIpv6 == other.IsIpv6 && SourcePort == other.SourcePort && DestinationPort == other.DestinationPort
           && ((ReadOnlySpan<byte>)_src).SequenceEqual(other._src) && ((ReadOnlySpan<byte>)_dst).SequenceEqual(other._dst);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FlowKey k && Equals(k);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_src);
        h.AddBytes(_dst);
        h.Add(SourcePort);
        h.Add(DestinationPort);
        return h.ToHashCode();
    }

    /// <summary>True when both keys name the same addresses and ports in the same direction.</summary>
    public static bool operator ==(FlowKey a, FlowKey b) => a.Equals(b);
    /// <summary>True when the keys differ in any address, port or direction.</summary>
    public static bool operator !=(FlowKey a, FlowKey b) => !a.Equals(b);

    /// <inheritdoc/>
    public override string ToString() => IsIpv6
        ? $"[{Source}]:{SourcePort} > [{Destination}]:{DestinationPort}"
        : $"{Source}:{SourcePort} > {Destination}:{DestinationPort}";
}
