using System.Text.Json.Nodes;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>
/// Describes a corpus segment in the terms scapy builds from (see scapy_build.py): every header
/// field set explicitly, options in scapy's own model where scapy has one (MSS, WScale, SAckOK,
/// SAck, Timestamp, NOP, EOL, MD5, AO, TFO), as (kind, data) otherwise.
/// </summary>
internal static class ScapyDescription
{
    /// <summary>
    /// The JSON for <paramref name="e"/>, or null with the reason scapy cannot express it.
    /// The rule: scapy writes every option's length byte as 2 + its data, so an option whose
    /// length byte lies or is missing (DeclaredLengthOverride, OmitLength, MalformedOption) is
    /// beyond it; so is an EOL followed by non-padding bytes and IP options that do not split
    /// into whole options.
    /// </summary>
    public static JsonObject? Describe(CorpusEntry e, out string? reason)
    {
        reason = null;
        var s = e.Segment;
        var options = new JsonArray();
        foreach (var o in s.Options)
        {
            var (name, value, why) = Option(o);
            if (why is not null)
            {
                reason = why;
                return null;
            }
            options.Add(new JsonArray(name, value));
        }

        JsonObject ip;
        if (s.Ip is Ipv4Header v4)
        {
            var ipOptions = SplitIpOptions(v4.Options.ToArray());
            if (ipOptions is null)
            {
                reason = "IP options that do not split into whole options";
                return null;
            }
            if (v4.Version != 4)
            {
                reason = "an IP version nibble other than 4";
                return null;
            }
            ip = new JsonObject
            {
                ["v"] = 4, ["src"] = v4.Source.ToString(), ["dst"] = v4.Destination.ToString(), ["tos"] = v4.Tos,
                ["id"] = v4.Identification, ["flags"] = (v4.ReservedFlag ? 4 : 0) | (v4.DontFragment ? 2 : 0) | (v4.MoreFragments ? 1 : 0),
                ["frag"] = v4.FragmentOffset, ["ttl"] = v4.Ttl, ["proto"] = v4.Protocol,
                ["options"] = new JsonArray(ipOptions.Select(b => (JsonNode)JsonValue.Create(TsharkExpectation.Hex(b))!).ToArray()),
                ["ihl"] = v4.HeaderLengthWords, ["len"] = v4.TotalLength, ["chksum"] = v4.Checksum,
            };
        }
        else
        {
            var v6 = (Ipv6Header)s.Ip;
            ip = new JsonObject
            {
                ["v"] = 6, ["src"] = v6.Source.ToString(), ["dst"] = v6.Destination.ToString(), ["tc"] = v6.TrafficClass,
                ["fl"] = v6.FlowLabel, ["hlim"] = v6.Ttl, ["nh"] = v6.Protocol, ["plen"] = v6.PayloadLength,
            };
        }

        return new JsonObject
        {
            ["ip"] = ip,
            ["tcp"] = new JsonObject
            {
                ["sport"] = s.SourcePort, ["dport"] = s.DestinationPort, ["seq"] = s.Sequence.Value, ["ack"] = s.Acknowledgment.Value,
                ["dataofs"] = s.DataOffset, ["reserved"] = s.Reserved, ["flags"] = (int)s.Flags, ["window"] = s.Window,
                ["chksum"] = s.Checksum, ["urgptr"] = s.UrgentPointer, ["options"] = options,
            },
            ["payload"] = TsharkExpectation.Hex(s.Payload.Span),
        };
    }

    private static (JsonNode Name, JsonNode? Value, string? Why) Option(TcpOption o)
    {
        if (o is TcpTlvOption { DeclaredLengthOverride: not null } or RawOption { DeclaredLengthOverride: not null })
            return (0, null, "an option length byte that lies");
        if (o is RawOption { OmitLength: true })
            return (0, null, "an option without a length byte");
        if (o is MalformedOption)
            return (0, null, "a malformed option");
        if (o is EndOfOptionListOption { Trailer.IsEmpty: false })
            return (0, null, "bytes after an EOL");
        var data = o.Kind is 0 or 1 ? [] : o.ToBytes()[2..];
        return o switch
        {
            NopOption => ("NOP", null, null),
            EndOfOptionListOption => ("EOL", null, null),
            MssOption m => ("MSS", m.Value, null),
            WindowScaleOption w => ("WScale", w.Shift, null),
            SackPermittedOption => ("SAckOK", "", null),
            SackOption sack => ("SAck", new JsonArray(sack.Blocks.SelectMany(b => new[] { b.Left.Value, b.Right.Value }).Select(x => (JsonNode)x).ToArray()), null),
            TimestampsOption t => ("Timestamp", new JsonArray(t.Value, t.Echo), null),
            Md5SignatureOption md5 => ("MD5", TsharkExpectation.Hex(md5.Digest.Span), null),
            TcpAoOption ao => ("AO", new JsonObject { ["keyid"] = ao.KeyId, ["rnextkeyid"] = ao.RNextKeyId, ["mac"] = TsharkExpectation.Hex(ao.Mac.Span) }, null),
            FastOpenOption { Cookie.Length: 8 } tfo => ("TFO", new JsonArray(
                System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(tfo.Cookie.Span),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(tfo.Cookie.Span[4..])), null),
            FastOpenOption tfo => ("TFO", TsharkExpectation.Hex(tfo.Cookie.Span), null),
            _ => (o.Kind, TsharkExpectation.Hex(data), null), // MPTCP, legacy MPTCP, experimental, raw kinds
        };
    }

    private static List<byte[]>? SplitIpOptions(byte[] o)
    {
        var list = new List<byte[]>();
        for (int i = 0; i < o.Length;)
        {
            int len = o[i] is 0 or 1 ? 1 : i + 1 < o.Length ? o[i + 1] : 0;
            if (len < 1 || i + len > o.Length) return null;
            list.Add(o[i..(i + len)]);
            i += len;
        }
        return list;
    }
}
