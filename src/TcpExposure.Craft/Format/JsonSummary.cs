using System.Buffers;
using System.Text;
using System.Text.Json;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>
/// A packet as one JSON object: every IP and TCP field, the options typed (kind, length, name,
/// notation and their fields), the payload, and the problems <see cref="SegmentParseResult"/> found.
/// Checksums are given as found, with whether they are right.
/// </summary>
public static class JsonSummary
{
    /// <summary>The JSON object for the IP packet in <paramref name="packet"/>, on one line.</summary>
    public static string Format(ReadOnlySpan<byte> packet, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
            Write(writer, packet);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The JSON object for a segment value (encoded first, so it shows what goes on the wire).</summary>
    public static string Format(TcpSegment segment, bool indented = false)
        => SummaryEncoding.WithEncoded(segment, indented, static (bytes, i) => Format(bytes, i));

    /// <summary>Writes the packet's object to <paramref name="writer"/>.</summary>
    public static void Write(Utf8JsonWriter writer, ReadOnlySpan<byte> packet)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var status = PacketView.TryParse(packet, out var v);
        var parsed = SegmentParser.Parse(packet);
        writer.WriteStartObject();
        writer.WriteNumber("length", packet.Length);
        if (status != PacketStatus.NotIp)
            WriteIp(writer, v);
        if (status == PacketStatus.Tcp)
            WriteTcp(writer, v, parsed);
        writer.WriteStartArray("problems");
        foreach (var p in parsed.Describe())
            writer.WriteStringValue(p);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteIp(Utf8JsonWriter w, in PacketView v)
    {
        w.WriteStartObject("ip");
        if (v.IsIpv6)
        {
            var h = v.Ipv6;
            w.WriteNumber("version", 6);
            w.WriteString("src", Address(h.Source));
            w.WriteString("dst", Address(h.Destination));
            w.WriteNumber("trafficClass", h.TrafficClass);
            w.WriteNumber("flowLabel", h.FlowLabel);
            w.WriteNumber("payloadLength", h.PayloadLength);
            w.WriteNumber("nextHeader", h.NextHeader);
            w.WriteNumber("hopLimit", h.HopLimit);
            w.WriteNumber("transportOffset", v.TransportOffset);
        }
        else
        {
            var h = v.Ipv4;
            w.WriteNumber("version", 4);
            w.WriteString("src", Address(h.Source));
            w.WriteString("dst", Address(h.Destination));
            w.WriteNumber("headerLength", h.HeaderLength);
            w.WriteNumber("tos", h.Tos);
            w.WriteNumber("totalLength", h.TotalLength);
            w.WriteNumber("id", h.Identification);
            w.WriteBoolean("reservedFlag", h.ReservedFlag);
            w.WriteBoolean("df", h.DontFragment);
            w.WriteBoolean("mf", h.MoreFragments);
            w.WriteNumber("fragmentOffset", h.FragmentOffset);
            w.WriteNumber("ttl", h.Ttl);
            w.WriteNumber("protocol", h.Protocol);
            w.WriteString("checksum", Hex16(h.HeaderChecksum));
            w.WriteBoolean("checksumValid", h.ChecksumValid);
            w.WriteString("options", Convert.ToHexStringLower(h.Options));
        }
        w.WriteEndObject();
    }

    private static void WriteTcp(Utf8JsonWriter w, in PacketView v, SegmentParseResult parsed)
    {
        var t = v.Tcp;
        w.WriteStartObject("tcp");
        w.WriteNumber("srcPort", t.SourcePort);
        w.WriteNumber("dstPort", t.DestinationPort);
        w.WriteNumber("seq", t.Sequence.Value);
        w.WriteNumber("ack", t.Acknowledgment.Value);
        w.WriteNumber("dataOffset", t.DataOffset);
        w.WriteNumber("headerLength", t.HeaderLength);
        w.WriteNumber("reserved", t.Reserved);
        w.WriteNumber("flagsValue", (int)t.Flags);
        w.WriteStartArray("flags");
        foreach (var (flag, name) in FlagNames)
            if ((t.Flags & flag) != 0) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WriteNumber("window", t.Window);
        w.WriteString("checksum", Hex16(t.Checksum));
        w.WriteBoolean("checksumValid", v.TcpChecksumValid);
        w.WriteNumber("urgentPointer", t.UrgentPointer);
        w.WriteEndObject();

        w.WriteStartArray("options");
        if (parsed.Segment is { } s)
            foreach (var o in s.Options)
                WriteOption(w, o);
        w.WriteEndArray();
        w.WriteNumber("payloadLength", t.Payload.Length);
        w.WriteString("payload", Convert.ToHexStringLower(t.Payload));
    }

    private static readonly (TcpFlags, string)[] FlagNames =
    [
        (TcpFlags.Fin, "FIN"), (TcpFlags.Syn, "SYN"), (TcpFlags.Rst, "RST"), (TcpFlags.Psh, "PSH"), (TcpFlags.Ack, "ACK"),
        (TcpFlags.Urg, "URG"), (TcpFlags.Ece, "ECE"), (TcpFlags.Cwr, "CWR"), (TcpFlags.Ae, "AE"),
    ];

    /// <summary>One option: kind, wire length, name, notation and its typed fields.</summary>
    public static void WriteOption(Utf8JsonWriter w, TcpOption o)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(o);
        w.WriteStartObject();
        w.WriteNumber("kind", o.Kind);
        w.WriteNumber("length", o.Length);
        w.WriteString("name", Name(o));
        w.WriteString("notation", OptionNotation.Format(o));
        switch (o)
        {
            case EndOfOptionListOption e: w.WriteString("trailer", Convert.ToHexStringLower(e.Trailer.Span)); break;
            case MssOption m: w.WriteNumber("value", m.Value); break;
            case WindowScaleOption ws: w.WriteNumber("shift", ws.Shift); break;
            case SackOption sack:
                w.WriteStartArray("blocks");
                foreach (var b in sack.Blocks)
                {
                    w.WriteStartObject();
                    w.WriteNumber("left", b.Left.Value);
                    w.WriteNumber("right", b.Right.Value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case TimestampsOption ts: w.WriteNumber("val", ts.Value); w.WriteNumber("ecr", ts.Echo); break;
            case Md5SignatureOption md5: w.WriteString("digest", Convert.ToHexStringLower(md5.Digest.Span)); break;
            case TcpAoOption ao:
                w.WriteNumber("keyId", ao.KeyId); w.WriteNumber("rNextKeyId", ao.RNextKeyId);
                w.WriteString("mac", Convert.ToHexStringLower(ao.Mac.Span));
                break;
            case FastOpenOption fo:
                w.WriteString("cookie", Convert.ToHexStringLower(fo.Cookie.Span));
                w.WriteBoolean("request", fo.Cookie.IsEmpty);
                break;
            case ExperimentalOption x: w.WriteString("exid", Hex16(x.ExId)); w.WriteString("data", Convert.ToHexStringLower(x.Data.Span)); break;
            case MptcpOption mp: WriteMptcp(w, mp); break;
            case LegacyMpCapableOption lc: w.WriteNumber("token", lc.Token); w.WriteNumber("idsn", lc.Idsn); break;
            case LegacyMpDataOption ld: w.WriteNumber("dsn", ld.Dsn); w.WriteNumber("dataLength", ld.MappedLength); w.WriteNumber("subflowSeq", ld.SubflowSeq); break;
            case LegacyMpAckOption la: w.WriteNumber("dataAck", la.DataAck); break;
            case RawOption r:
                if (r.DeclaredLength >= 0) w.WriteNumber("declaredLength", r.DeclaredLength); else w.WriteNull("declaredLength");
                w.WriteString("data", Convert.ToHexStringLower(r.Data.Span));
                break;
            case MalformedOption bad:
                if (bad.DeclaredLength >= 0) w.WriteNumber("declaredLength", bad.DeclaredLength); else w.WriteNull("declaredLength");
                w.WriteString("data", Convert.ToHexStringLower(bad.Data.Span));
                w.WriteString("problem", bad.Problem.ToString());
                w.WriteString("description", bad.Describe());
                break;
        }
        if (o is TcpTlvOption { DeclaredLengthOverride: { } lie })
            w.WriteNumber("declaredLength", lie);
        w.WriteBoolean("malformed", o.IsMalformed);
        w.WriteEndObject();
    }

    private static void WriteMptcp(Utf8JsonWriter w, MptcpOption mp)
    {
        w.WriteString("subtype", mp.Subtype.ToString());
        switch (mp)
        {
            case MpCapableOption c:
                w.WriteNumber("version", c.Version);
                w.WriteString("flags", Hex16(c.Flags));
                if (c.SenderKey is { } sk) w.WriteString("senderKey", Hex64(sk));
                if (c.ReceiverKey is { } rk) w.WriteString("receiverKey", Hex64(rk));
                if (c.DataLevelLength is { } dl) w.WriteNumber("dataLevelLength", dl);
                if (c.Checksum is { } cs) w.WriteString("checksum", Hex16(cs));
                break;
            case MpJoinSynOption j:
                w.WriteString("form", "syn"); w.WriteBoolean("backup", j.Backup); w.WriteNumber("addressId", j.AddressId);
                w.WriteString("receiverToken", Hex64(j.ReceiverToken)); w.WriteString("senderRandom", Hex64(j.SenderRandom));
                break;
            case MpJoinSynAckOption j:
                w.WriteString("form", "synack"); w.WriteBoolean("backup", j.Backup); w.WriteNumber("addressId", j.AddressId);
                w.WriteString("truncatedHmac", Hex64(j.TruncatedHmac)); w.WriteString("senderRandom", Hex64(j.SenderRandom));
                break;
            case MpJoinAckOption j:
                w.WriteString("form", "ack"); w.WriteString("hmac", Convert.ToHexStringLower(j.Hmac.Span));
                break;
            case DssOption d:
                w.WriteBoolean("dataFin", d.DataFin);
                if (d.DataAck is { } a) { w.WriteNumber("dataAck", a); w.WriteBoolean("dataAck64", d.DataAck64); }
                if (d.Dsn is { } dsn)
                {
                    w.WriteNumber("dsn", dsn); w.WriteBoolean("dsn64", d.Dsn64);
                    w.WriteNumber("subflowSeq", d.SubflowSeq); w.WriteNumber("dataLevelLength", d.DataLevelLength);
                    if (d.Checksum is { } c) w.WriteString("checksum", Hex16(c));
                }
                break;
            case AddAddrOption aa:
                w.WriteBoolean("echo", aa.Echo); w.WriteNumber("addressId", aa.AddressId); w.WriteString("address", aa.Address.ToString());
                if (aa.Port is { } p) w.WriteNumber("port", p);
                if (aa.Hmac is { } h) w.WriteString("hmac", Hex64(h));
                break;
            case RemoveAddrOption r:
                w.WriteStartArray("addressIds");
                foreach (var id in r.AddressIds) w.WriteNumberValue(id);
                w.WriteEndArray();
                break;
            case MpPrioOption pr:
                w.WriteBoolean("backup", pr.Backup);
                if (pr.AddressId is { } pid) w.WriteNumber("addressId", pid);
                break;
            case MpFailOption f: w.WriteString("dsn", Hex64(f.Dsn)); break;
            case MpFastCloseOption fc: w.WriteString("receiverKey", Hex64(fc.ReceiverKey)); break;
            case MpTcpRstOption rst: w.WriteString("flags", Hex16(rst.Flags)); w.WriteNumber("reason", rst.Reason); break;
        }
    }

    private static string Name(TcpOption o) => o switch
    {
        EndOfOptionListOption => "eol",
        NopOption => "nop",
        MssOption => "mss",
        WindowScaleOption => "wscale",
        SackPermittedOption => "sackOK",
        SackOption => "sack",
        TimestampsOption => "timestamps",
        Md5SignatureOption => "md5",
        TcpAoOption => "tcp-ao",
        FastOpenOption => "fastopen",
        ExperimentalOption => "experimental",
        MpCapableOption => "mp_capable",
        MpJoinSynOption => "mp_join_syn",
        MpJoinSynAckOption => "mp_join_synack",
        MpJoinAckOption => "mp_join_ack",
        DssOption => "dss",
        AddAddrOption => "add_addr",
        RemoveAddrOption => "remove_addr",
        MpPrioOption => "mp_prio",
        MpFailOption => "mp_fail",
        MpFastCloseOption => "mp_fastclose",
        MpTcpRstOption => "mp_tcprst",
        LegacyMpCapableOption => "mp_capable_legacy",
        LegacyMpDataOption => "mp_data",
        LegacyMpAckOption => "mp_ack",
        MalformedOption => "malformed",
        _ => "raw",
    };

    private static string Address(ReadOnlySpan<byte> a) => new System.Net.IPAddress(a).ToString();
    private static string Hex16(int v) => "0x" + v.ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
    private static string Hex64(ulong v) => "0x" + v.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}
