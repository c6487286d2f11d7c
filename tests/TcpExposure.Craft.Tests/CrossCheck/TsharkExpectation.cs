using System.Buffers.Binary;
using System.Globalization;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>
/// What tshark 4.x must print (-T fields) for a corpus segment, computed from the values the
/// segment was built from, never from our own parser. A field absent from the expectation must
/// be empty in tshark's output too, so tshark reporting anything we did not build fails.
/// </summary>
internal static class TsharkExpectation
{
    public static readonly string[] IpFields =
    [
        "ip.checksum.status", "ip.hdr_len", "ip.len", "ip.id", "ip.ttl", "ip.dsfield", "ip.flags", "ip.src", "ip.dst", "ip.opt.type",
        "ipv6.plen", "ipv6.hlim", "ipv6.tclass", "ipv6.flow", "ipv6.src", "ipv6.dst",
    ];

    public static readonly string[] TcpBaseFields =
    [
        "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len", "tcp.flags", "tcp.window_size_value",
        "tcp.urgent_pointer", "tcp.checksum", "tcp.checksum.status",
    ];

    public static readonly string[] TcpOptionAndPayloadFields =
    [
        "tcp.len", "tcp.payload", "tcp.option_kind", "tcp.option_len", "tcp.options.mss_val", "tcp.options.wscale.shift",
        "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "tcp.options.sack_le", "tcp.options.sack_re",
        "tcp.options.md5.digest", "tcp.options.ao.keyid", "tcp.options.ao.rnextkeyid", "tcp.options.ao.mac",
        "tcp.options.tfo.request", "tcp.options.tfo.cookie", "tcp.options.experimental.exid", "tcp.options.experimental.data",
        "tcp.options.unknown.payload",
    ];

    public static readonly string[] MptcpFields =
    [
        "tcp.options.mptcp.subtype", "tcp.options.mptcp.version", "tcp.options.mptcp.flags", "tcp.options.mptcp.backup.flag",
        "tcp.options.mptcp.addrid", "tcp.options.mptcp.sendkey", "tcp.options.mptcp.recvkey", "tcp.options.mptcp.recvtok",
        "tcp.options.mptcp.sendrand", "tcp.options.mptcp.sendtrunchmac", "tcp.options.mptcp.sendhmac",
        "tcp.options.mptcp.rawdataack", "tcp.options.mptcp.rawdataseqno", "tcp.options.mptcp.subflowseqno",
        "tcp.options.mptcp.datalvllen", "tcp.options.mptcp.checksum", "tcp.options.mptcp.ipv4", "tcp.options.mptcp.ipv6",
        "tcp.options.mptcp.port", "tcp.options.mptcp.addaddrtrunchmac", "tcp.options.mptcp.rst_reason",
        "tcp.options.mptcp.echo", "tcp.options.mptcp.datafin.flag", "tcp.options.mptcp.flag_U.flag",
        "tcp.options.mptcp.flag_V.flag", "tcp.options.mptcp.flag_W.flag", "tcp.options.mptcp.flag_T.flag",
    ];

    public static readonly string[] AllFields = [.. IpFields, .. TcpBaseFields, .. TcpOptionAndPayloadFields, .. MptcpFields];

    /// <summary>The expected value of every field that is compared for <paramref name="e"/> ("" where tshark must print nothing).</summary>
    public static Dictionary<string, string> For(CorpusEntry e)
    {
        var v = new Dictionary<string, List<string>>();
        void Add(string field, object value)
        {
            if (!v.TryGetValue(field, out var list)) v[field] = list = [];
            list.Add(Convert.ToString(value, CultureInfo.InvariantCulture)!);
        }

        var s = e.Segment;
        var bytes = e.Bytes;
        int ipLen = s.Ip.HeaderLength;
        if (s.Ip is Ipv4Header ip4)
        {
            Add("ip.checksum.status", e.WrongIpChecksum ? 0 : 1);
            Add("ip.hdr_len", ipLen);
            Add("ip.len", bytes.Length);
            Add("ip.id", $"0x{ip4.Identification:x4}");
            Add("ip.ttl", ip4.Ttl);
            Add("ip.dsfield", $"0x{ip4.Tos:x2}");
            Add("ip.flags", $"0x{(ip4.ReservedFlag ? 4 : 0) | (ip4.DontFragment ? 2 : 0) | (ip4.MoreFragments ? 1 : 0):x2}");
            Add("ip.src", ip4.Source);
            Add("ip.dst", ip4.Destination);
            var o = ip4.Options.Span;
            for (int i = 0; i < o.Length;)
            {
                Add("ip.opt.type", o[i]);
                if (o[i] == 0) break;
                i += o[i] == 1 ? 1 : Math.Max(2, (int)o[i + 1]);
            }
        }
        else
        {
            var ip6 = (Ipv6Header)s.Ip;
            Add("ipv6.plen", bytes.Length - 40);
            Add("ipv6.hlim", ip6.Ttl);
            Add("ipv6.tclass", $"0x{ip6.TrafficClass:x8}");
            Add("ipv6.flow", $"0x{ip6.FlowLabel:x6}");
            Add("ipv6.src", ip6.Source);
            Add("ipv6.dst", ip6.Destination);
        }

        Add("tcp.srcport", s.SourcePort);
        Add("tcp.dstport", s.DestinationPort);
        Add("tcp.seq_raw", s.Sequence.Value);
        Add("tcp.ack_raw", s.Acknowledgment.Value);
        Add("tcp.hdr_len", (s.DataOffset ?? s.TcpHeaderLength / 4) * 4);
        Add("tcp.flags", $"0x{(s.Reserved << 9) | (int)s.Flags:x4}");
        Add("tcp.window_size_value", s.Window);
        Add("tcp.urgent_pointer", s.UrgentPointer);
        Add("tcp.checksum", $"0x{BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(ipLen + 16)):x4}");
        Add("tcp.checksum.status", e.WrongTcpChecksum ? 0 : 1);

        var compared = new List<string>(IpFields);
        if (!e.Fragment) compared.AddRange(TcpBaseFields);
        if (!e.Malformed && !e.Fragment)
        {
            compared.AddRange(TcpOptionAndPayloadFields);
            if (!e.LegacyMptcp) compared.AddRange(MptcpFields);
            Add("tcp.len", s.Payload.Length);
            // tshark shows the data of an RST as a reset cause (RFC 9293 3.5.3), not as payload.
            if (!s.Payload.IsEmpty && (s.Flags & Wire.TcpFlags.Rst) == 0) Add("tcp.payload", Hex(s.Payload.Span));
            foreach (var opt in s.Options)
                AddOption(opt, Add);
            for (int pad = s.TcpHeaderLength - 20 - s.OptionsLength; pad > 0; pad--)
                Add("tcp.option_kind", 0); // tshark reads each zero pad byte as an EOL
        }

        return compared.ToDictionary(f => f, f => v.TryGetValue(f, out var list) ? string.Join(",", list) : "");
    }

    private static void AddOption(TcpOption opt, Action<string, object> add)
    {
        add("tcp.option_kind", opt.Kind);
        if (opt is TcpTlvOption or RawOption)
            add("tcp.option_len", opt.Length);
        switch (opt)
        {
            case MssOption m: add("tcp.options.mss_val", m.Value); break;
            case WindowScaleOption w: add("tcp.options.wscale.shift", w.Shift); break;
            case TimestampsOption t:
                add("tcp.options.timestamp.tsval", t.Value);
                add("tcp.options.timestamp.tsecr", t.Echo);
                break;
            case SackOption sack:
                foreach (var b in sack.Blocks)
                {
                    add("tcp.options.sack_le", b.Left.Value);
                    add("tcp.options.sack_re", b.Right.Value);
                }
                break;
            case Md5SignatureOption md5: add("tcp.options.md5.digest", Hex(md5.Digest.Span)); break;
            case TcpAoOption ao:
                add("tcp.options.ao.keyid", ao.KeyId);
                add("tcp.options.ao.rnextkeyid", ao.RNextKeyId);
                add("tcp.options.ao.mac", Hex(ao.Mac.Span));
                break;
            case FastOpenOption tfo:
                if (tfo.Cookie.IsEmpty) add("tcp.options.tfo.request", 1);
                else add("tcp.options.tfo.cookie", Hex(tfo.Cookie.Span));
                break;
            case ExperimentalOption x:
                add("tcp.options.experimental.exid", $"0x{x.ExId:x4}");
                if (x.ExId == 0xF989) // RFC 7413's experimental TFO: tshark shows the data as the cookie
                {
                    if (x.Data.IsEmpty) add("tcp.options.tfo.request", 1);
                    else add("tcp.options.tfo.cookie", Hex(x.Data.Span));
                }
                else if (!x.Data.IsEmpty)
                    add("tcp.options.experimental.data", Hex(x.Data.Span));
                break;
            case RawOption r:
                if (!r.Data.IsEmpty) add("tcp.options.unknown.payload", Hex(r.Data.Span));
                break;
            case LegacyMpDataOption or LegacyMpAckOption:
                add("tcp.options.unknown.payload", Hex(opt.ToBytes().AsSpan(2)));
                break;
            case MptcpOption mp:
                add("tcp.options.mptcp.subtype", (int)mp.Subtype);
                AddMptcp(mp, add);
                break;
        }
    }

    private static void AddMptcp(MptcpOption mp, Action<string, object> add)
    {
        const string p = "tcp.options.mptcp.";
        byte first = mp.ToBytes()[2];
        switch (mp)
        {
            case MpCapableOption c:
                add(p + "version", c.Version);
                add(p + "flags", $"0x{c.Flags:x2}");
                if (c.SenderKey is { } sk) add(p + "sendkey", sk);
                if (c.ReceiverKey is { } rk) add(p + "recvkey", rk);
                if (c.DataLevelLength is { } dl) add(p + "datalvllen", dl);
                if (c.Checksum is { } cs) add(p + "checksum", $"0x{cs:x4}");
                break;
            case MpJoinSynOption j:
                add(p + "flags", $"0x{first:x2}");
                add(p + "backup.flag", j.Backup ? 1 : 0);
                add(p + "addrid", j.AddressId);
                add(p + "recvtok", j.ReceiverToken);
                add(p + "sendrand", j.SenderRandom);
                break;
            case MpJoinSynAckOption j:
                add(p + "flags", $"0x{first:x2}");
                add(p + "backup.flag", j.Backup ? 1 : 0);
                add(p + "addrid", j.AddressId);
                add(p + "sendtrunchmac", j.TruncatedHmac);
                add(p + "sendrand", j.SenderRandom);
                break;
            case MpJoinAckOption j:
                add(p + "sendhmac", Hex(j.Hmac.Span));
                break;
            case DssOption d:
                add(p + "flags", $"0x{d.FlagByte:x2}");
                add(p + "datafin.flag", d.DataFin ? 1 : 0);
                if (d.DataAck is { } a) add(p + "rawdataack", d.DataAck64 ? a : (uint)a);
                if (d.Dsn is { } dsn)
                {
                    add(p + "rawdataseqno", d.Dsn64 ? dsn : (uint)dsn);
                    add(p + "subflowseqno", d.SubflowSeq);
                    add(p + "datalvllen", d.DataLevelLength);
                    // tshark 4.0 does not show the DSS checksum field.
                }
                break;
            case AddAddrOption aa:
                add(p + "echo", aa.Echo ? 1 : 0);
                add(p + "addrid", aa.AddressId);
                add(aa.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? p + "ipv6" : p + "ipv4", aa.Address);
                if (aa.Port is { } port) add(p + "port", port);
                if (aa.Hmac is { } h) add(p + "addaddrtrunchmac", h);
                break;
            case RemoveAddrOption ra:
                foreach (var id in ra.AddressIds) add(p + "addrid", id);
                break;
            case MpPrioOption pr:
                add(p + "flags", $"0x{first:x2}");
                add(p + "backup.flag", pr.Backup ? 1 : 0);
                if (pr.AddressId is { } prId) add(p + "addrid", prId);
                break;
            case MpFailOption f:
                add(p + "rawdataseqno", f.Dsn);
                break;
            case MpFastCloseOption fc:
                add(p + "recvkey", fc.ReceiverKey);
                break;
            case MpTcpRstOption r:
                add(p + "flags", $"0x{first:x2}");
                add(p + "flag_U.flag", (r.Flags >> 3) & 1);
                add(p + "flag_V.flag", (r.Flags >> 2) & 1);
                add(p + "flag_W.flag", (r.Flags >> 1) & 1);
                add(p + "flag_T.flag", r.Flags & 1);
                add(p + "rst_reason", $"0x{r.Reason:x2}");
                break;
        }
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();
}
