using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Legacy;

/// <summary>
/// The legacy tcpsrlib crafting surface (LEGACY_API.md): same names, argument orders and result
/// shapes, backed by the typed codec. Where the original had bugs (odd payloads, long IP headers,
/// dropped options) this does the right thing.
/// </summary>
public static class LegacyCraft
{
    /// <summary>IP ID the legacy crafting code always used.</summary>
    public const ushort LegacyIpId = 0x1234;
    /// <summary>TTL the legacy crafting code always used.</summary>
    public const byte LegacyTtl = 255;

    /// <summary>
    /// Builds an IPv4 + TCP packet: TOS 0, ID 0x1234, no fragmentation, TTL 255. The TCP checksum is
    /// always filled in; the IP header checksum only when <paramref name="ipChecksum"/> is true.
    /// Addresses are host-order integers.
    /// </summary>
    public static byte[] MakeSegment(uint daddr, uint saddr, ushort dport, ushort sport, ushort awnd, uint seq, uint ack,
        int flags, IEnumerable<LegacyOption>? options = null, ReadOnlySpan<byte> payload = default, bool ipChecksum = false)
    {
        var segment = ToSegment(daddr, saddr, dport, sport, awnd, seq, ack, flags, ComposeOptions(options ?? []), payload.ToArray(), ipChecksum);
        return segment.ToArray();
    }

    /// <summary>The <see cref="TcpSegment"/> that <see cref="MakeSegment"/> encodes, with already composed option bytes.</summary>
    public static TcpSegment ToSegment(uint daddr, uint saddr, ushort dport, ushort sport, ushort awnd, uint seq, uint ack,
        int flags, ReadOnlyMemory<byte> optionBytes, ReadOnlyMemory<byte> payload, bool ipChecksum)
    {
        if ((flags & ~0x1FF) != 0)
            throw new ArgumentOutOfRangeException(nameof(flags), flags, "TCP flags are 9 bits (0 to 0x1FF).");
        return new TcpSegment
        {
            Ip = new Ipv4Header
            {
                Source = AddressFromHostOrder(saddr),
                Destination = AddressFromHostOrder(daddr),
                Identification = LegacyIpId,
                Ttl = LegacyTtl,
                Checksum = ipChecksum ? null : (ushort)0,
            },
            SourcePort = sport,
            DestinationPort = dport,
            Sequence = seq,
            Acknowledgment = ack,
            Flags = (TcpFlags)flags,
            Window = awnd,
            Options = optionBytes.IsEmpty ? [] : [new RawOptionBlock(optionBytes)],
            Payload = payload,
        };
    }

    /// <summary>Turns a host-order integer into an address.</summary>
    public static IPAddress AddressFromHostOrder(uint address)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, address);
        return new IPAddress(b);
    }

    /// <summary>Turns an IPv4 address (or a dotted string) into a host-order integer.</summary>
    public static uint HostOrder(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out int n) || n != 4)
            throw new ArgumentException($"'{address}' is not an IPv4 address; the legacy API is IPv4 only.");
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    /// <summary>Parses a dotted address or a decimal host-order integer.</summary>
    public static uint ParseAddress(string text)
    {
        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            return v;
        if (IPAddress.TryParse(text, out var a))
            return HostOrder(a);
        throw new ArgumentException($"'{text}' is not an IPv4 address.");
    }

    /// <summary>
    /// The option bytes for a list of legacy tuples, padded with NOPs to a multiple of 4.
    /// Throws when they do not fit in 40 bytes (the original dropped them silently).
    /// </summary>
    public static byte[] ComposeOptions(IEnumerable<LegacyOption> options)
    {
        var typed = options.Select(ToTyped).ToList();
        int len = typed.Sum(o => o.Length);
        int padded = (len + 3) & ~3;
        if (padded > TcpOptionKind.MaxOptionSpace)
            throw new ArgumentException($"The options take {len} bytes ({padded} padded); a TCP header holds at most 40.");
        var bytes = new byte[padded];
        int at = 0;
        foreach (var o in typed)
        {
            o.Write(bytes.AsSpan(at));
            at += o.Length;
        }
        bytes.AsSpan(at).Fill(TcpOptionKind.NoOperation);
        return bytes;
    }

    /// <summary>The typed option for one legacy tuple (names are case-insensitive).</summary>
    public static TcpOption ToTyped(LegacyOption o)
    {
        string name = o.Name.ToUpperInvariant();
        switch (name)
        {
            case "EOL": return EndOfOptionListOption.Instance;
            case "NOP": return NopOption.Instance;
            case "MSS": return new MssOption(checked((ushort)o.Int(0)));
            case "WSCALE": return new WindowScaleOption(checked((byte)o.Int(0)));
            case "SACKOK": return SackPermittedOption.Instance;
            case "TIMESTAMP": return new TimestampsOption(checked((uint)o.Int(0)), checked((uint)o.Int(1)));
            case "MP_CAPABLE": return new LegacyMpCapableOption(checked((uint)o.Int(0)), unchecked((ulong)o.Int(1)));
            case "MP_DATA": return new LegacyMpDataOption(checked((uint)o.Int(0)), checked((ushort)o.Int(1)), checked((uint)o.Int(2)));
            case "MP_ACK": return new LegacyMpAckOption(checked((uint)o.Int(0)));
            case "SACK":
                if (o.Values.Length == 0 || o.Values.Length % 2 != 0 || o.Values.Length > 8)
                    throw new ArgumentException("Option SACK takes 1 to 4 pairs of (left, right) edges.");
                return new SackOption(Enumerable.Range(0, o.Values.Length / 2)
                    .Select(i => new SackBlock(checked((uint)o.Int(2 * i)), checked((uint)o.Int(2 * i + 1)))).ToImmutableArray());
            case "MD5": return new Md5SignatureOption(o.Bytes(0));
            case "AO": return new TcpAoOption(checked((byte)o.Int(0)), checked((byte)o.Int(1)), o.Bytes(2));
            case "TFO": return new FastOpenOption(o.Bytes(0));
            case "EXP": return new ExperimentalOption(checked((byte)o.Int(0)), checked((ushort)o.Int(1)), o.Bytes(2));
            case "RAW":
                return o.Values.Length >= 3
                    ? new RawOption(checked((byte)o.Int(0)), o.Bytes(1)) { DeclaredLengthOverride = checked((byte)o.Int(2)) }
                    : new RawOption(checked((byte)o.Int(0)), o.Bytes(1));
        }
        if (byte.TryParse(o.Name, NumberStyles.None, CultureInfo.InvariantCulture, out byte kind))
            return new RawOption(kind, o.Bytes(0));
        throw new ArgumentException($"Unknown option name '{o.Name}' (known: EOL NOP MSS WSCALE SACKOK TIMESTAMP MP_CAPABLE MP_DATA MP_ACK SACK MD5 AO TFO EXP RAW, or a kind number).");
    }

    /// <summary>
    /// Option bytes back into legacy lists: <c>['MSS', 512]</c>, <c>['SACKOK', '']</c>, ...; other
    /// kinds as a list naming the kind and carrying its data. Nothing is dropped.
    /// </summary>
    public static List<LegacyOption> DecomposeOptions(ReadOnlySpan<byte> optionBytes)
    {
        var list = new List<LegacyOption>();
        foreach (var o in TcpOptionParser.Parse(optionBytes, MptcpDialect.Legacy))
            list.Add(FromTyped(o));
        return list;
    }

    /// <summary>The legacy tuple for a typed option.</summary>
    public static LegacyOption FromTyped(TcpOption o) => o switch
    {
        EndOfOptionListOption => new("EOL", ""),
        NopOption => new("NOP", ""),
        MssOption m => new("MSS", (long)m.Value),
        WindowScaleOption w => new("WSCALE", (long)w.Shift),
        SackPermittedOption => new("SACKOK", ""),
        TimestampsOption t => new("TIMESTAMP", (long)t.Value, (long)t.Echo),
        LegacyMpCapableOption c => new("MP_CAPABLE", (long)c.Token, unchecked((long)c.Idsn)),
        LegacyMpDataOption d => new("MP_DATA", (long)d.Dsn, (long)d.MappedLength, (long)d.SubflowSeq),
        LegacyMpAckOption a => new("MP_ACK", (long)a.DataAck),
        SackOption s => new("SACK", s.Blocks.SelectMany(b => new object[] { (long)b.Left.Value, (long)b.Right.Value }).ToArray()),
        Md5SignatureOption m => new("MD5", m.Digest.ToArray()),
        TcpAoOption a => new("AO", (long)a.KeyId, (long)a.RNextKeyId, a.Mac.ToArray()),
        FastOpenOption f => new("TFO", f.Cookie.ToArray()),
        ExperimentalOption e => new("EXP", (long)e.Kind, (long)e.ExId, e.Data.ToArray()),
        MptcpOption m => new("MPTCP", (long)m.Subtype, m.ToBytes()[2..]),
        MalformedOption m => new("MALFORMED", (long)m.Kind, (long)m.DeclaredLength, m.Data.ToArray()),
        RawOption r => new(r.Kind.ToString(CultureInfo.InvariantCulture), r.Data.ToArray()),
        _ => new(o.Kind.ToString(CultureInfo.InvariantCulture), o.ToBytes()[Math.Min(2, o.Length)..]),
    };

    /// <summary>
    /// <c>parse_headers</c>: the IP header, TCP header, options (legacy lists) and payload.
    /// Throws <see cref="ArgumentException"/> when the bytes are not IPv4/IPv6 + TCP.
    /// </summary>
    public static LegacyParsed ParseHeaders(ReadOnlySpan<byte> packet)
    {
        var status = PacketView.TryParse(packet, out var v);
        if (status != PacketStatus.Tcp)
            throw NotTcpError(status, v.Protocol);
        var ip = new LegacyIpHeader();
        if (v.IsIpv6)
        {
            ip.inith = BinaryPrimitives.ReadUInt16BigEndian(v.Bytes);
            ip.length = v.Ipv6.PayloadLength + 40;
            ip.ttl = v.Ipv6.HopLimit;
            ip.proto = v.Protocol;
            ip.version = 6;
            ip.hdrlen = v.TransportOffset;
        }
        else
        {
            var h = v.Ipv4;
            ip.inith = BinaryPrimitives.ReadUInt16BigEndian(h.Bytes);
            ip.length = h.TotalLength;
            ip.id = h.Identification;
            ip.flags = h.FlagsAndFragment;
            ip.ttl = h.Ttl;
            ip.proto = h.Protocol;
            ip.hdrcksum = h.HeaderChecksum;
            ip.srcaddr = h.SourceValue;
            ip.dstaddr = h.DestinationValue;
            ip.version = 4;
            ip.hdrlen = h.HeaderLength;
        }
        var t = v.Tcp;
        var tcp = new LegacyTcpHeader
        {
            srcport = t.SourcePort,
            dstport = t.DestinationPort,
            seqno = t.Sequence.Value,
            ackno = t.Acknowledgment.Value,
            hlen = t.Bytes[12],
            flag = (int)t.Flags,
            window = t.Window,
            checksum = t.Checksum,
            urg = t.UrgentPointer,
            option = t.OptionBytes.ToArray(),
            offset = t.DataOffset,
            hdrlen = t.HeaderLength,
        };
        return new LegacyParsed(ip, tcp, DecomposeOptions(t.OptionBytes), t.Payload.ToArray());
    }

    internal static ArgumentException NotTcpError(PacketStatus status, byte protocol) => new(status switch
    {
        PacketStatus.NotIp => "Not an IP packet (or its header is cut off).",
        PacketStatus.NotTcp => $"Not a TCP packet (IP protocol {protocol}).",
        _ => "The TCP header is cut off.",
    });

    /// <summary>
    /// <c>summarize_pkt</c>: the text of <see cref="SummarizeAns1"/> of <see cref="ParseHeaders"/>,
    /// written straight from the bytes (one allocation). Throws <see cref="ArgumentException"/> as ParseHeaders does.
    /// </summary>
    public static string SummarizePkt(ReadOnlySpan<byte> packet) => LegacySummary.Summarize(packet);

    /// <summary>
    /// <c>summarize_ans1</c>: one tcpdump-like line ending in a newline, e.g.
    /// <c>192.0.2.2.55555 &gt; 192.0.2.1.80: Flags [0x2], seq 20000, ack 0, win 8192, options [MSS, 512, ...], length 0, pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x4e09</c>.
    /// </summary>
    public static string SummarizeAns1(LegacyParsed p)
    {
        var sb = new StringBuilder(192);
        var inv = CultureInfo.InvariantCulture;
        sb.Append(LegacyAddress(p.Ip.srcaddr)).Append('.').Append(p.Tcp.srcport.ToString(inv)).Append(" > ")
          .Append(LegacyAddress(p.Ip.dstaddr)).Append('.').Append(p.Tcp.dstport.ToString(inv))
          .Append(": Flags [0x").Append(p.Tcp.flag.ToString("x", inv)).Append("], seq ").Append(p.Tcp.seqno.ToString(inv))
          .Append(", ack ").Append(p.Tcp.ackno.ToString(inv)).Append(", win ").Append(p.Tcp.window.ToString(inv)).Append(", ");
        if (p.Options.Count > 0)
        {
            sb.Append("options [");
            foreach (var o in p.Options)
            {
                sb.Append(o.Name).Append(", ");
                foreach (var value in o.Values)
                {
                    string s = value switch
                    {
                        byte[] b => b.Length == 0 ? "" : "0x" + Convert.ToHexStringLower(b),
                        IFormattable f => f.ToString(null, inv),
                        _ => value?.ToString() ?? "",
                    };
                    if (s.Length > 0) sb.Append(s).Append(", ");
                }
            }
            sb.Append("], ");
        }
        int pktlen = p.Ip.length;
        sb.Append("length ").Append(p.Payload.Length.ToString(inv)).Append(", pktlen ").Append(pktlen.ToString(inv))
          .Append(", iphdrlen ").Append(p.Ip.hdrlen.ToString(inv)).Append(", tcphdrlen ").Append(p.Tcp.hdrlen.ToString(inv))
          .Append(" checksum 0x").Append(p.Tcp.checksum.ToString("x", inv)).Append('\n');
        return sb.ToString();
    }

    private static string LegacyAddress(uint a) => $"{a >> 24}.{(a >> 16) & 0xFF}.{(a >> 8) & 0xFF}.{a & 0xFF}";
}

/// <summary>Already-composed option bytes carried as one block, so legacy option bytes go on the wire exactly as composed.</summary>
internal sealed class RawOptionBlock(ReadOnlyMemory<byte> bytes) : TcpOption
{
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;
    public override byte Kind => Bytes.Length > 0 ? Bytes.Span[0] : (byte)0;
    public override int Length => Bytes.Length;
    public override void Write(Span<byte> destination) => Bytes.Span.CopyTo(destination);
}
