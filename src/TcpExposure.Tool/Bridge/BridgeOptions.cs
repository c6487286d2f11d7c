using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TcpExposure.Craft.Legacy;

namespace TcpExposure.Tool.Bridge;

/// <summary>
/// The compact form in which Python hands over legacy option tuples (no JSON on the crafting path):
/// per option <c>[u8 name length][ASCII name][u8 value count]</c>, then per value a tag byte:
/// 0 = int64 little-endian, 1 = bytes (<c>u16</c> length + data), 2 = UTF-8 string (<c>u16</c> length + data).
/// </summary>
internal static class BridgeOptions
{
    /// <summary>Reads the compact form; throws <see cref="ArgumentException"/> on a malformed block.</summary>
    public static List<LegacyOption> Read(ReadOnlySpan<byte> data)
    {
        var list = new List<LegacyOption>();
        int at = 0;
        while (at < data.Length)
        {
            int nameLen = data[at++];
            Need(data, at, nameLen + 1);
            string name = Encoding.ASCII.GetString(data.Slice(at, nameLen));
            at += nameLen;
            int count = data[at++];
            var values = new object[count];
            for (int i = 0; i < count; i++)
            {
                Need(data, at, 1);
                byte tag = data[at++];
                switch (tag)
                {
                    case 0:
                        Need(data, at, 8);
                        values[i] = BinaryPrimitives.ReadInt64LittleEndian(data[at..]);
                        at += 8;
                        break;
                    case 1:
                    case 2:
                        Need(data, at, 2);
                        int len = BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);
                        at += 2;
                        Need(data, at, len);
                        values[i] = tag == 1 ? data.Slice(at, len).ToArray() : Encoding.UTF8.GetString(data.Slice(at, len));
                        at += len;
                        break;
                    default:
                        throw new ArgumentException($"Bridge option block: unknown value tag {tag}.");
                }
            }
            list.Add(new LegacyOption(name, values));
        }
        return list;
    }

    private static void Need(ReadOnlySpan<byte> data, int at, int n)
    {
        if (at + n > data.Length)
            throw new ArgumentException("Bridge option block is cut off.");
    }

    /// <summary>Writes one legacy option as a JSON array: name, then values (bytes as <c>{"b": hex}</c>).</summary>
    public static void WriteJson(Utf8JsonWriter w, LegacyOption o)
    {
        w.WriteStartArray();
        w.WriteStringValue(o.Name);
        for (int i = 0; i < o.Values.Length; i++)
        {
            switch (o.Values[i])
            {
                // The draft MP_CAPABLE IDSN is a 64-bit unsigned value; LegacyOption carries it as a long.
                case long l when o.Name == "MP_CAPABLE" && i == 1: w.WriteNumberValue(unchecked((ulong)l)); break;
                case long l: w.WriteNumberValue(l); break;
                case byte[] b:
                    w.WriteStartObject();
                    w.WriteString("b", Convert.ToHexStringLower(b));
                    w.WriteEndObject();
                    break;
                case string s: w.WriteStringValue(s); break;
                case var v: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
            }
        }
        w.WriteEndArray();
    }

    /// <summary>Reads an option list written by Python's summarize path: <c>[[name, v...], ...]</c>.</summary>
    public static List<LegacyOption> ReadJson(JsonElement array)
    {
        var list = new List<LegacyOption>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() == 0)
                throw new BridgeTypeException("Each option must be a list or tuple starting with its name.");
            var parts = item.EnumerateArray().ToList();
            string name = parts[0].ValueKind == JsonValueKind.String ? parts[0].GetString()!
                : parts[0].ToString();
            var values = parts.Skip(1).Select(v => v.ValueKind switch
            {
                JsonValueKind.Number when v.TryGetInt64(out long l) => (object)l,
                JsonValueKind.Number when v.TryGetUInt64(out ulong u) => unchecked((long)u),
                JsonValueKind.String => v.GetString()!,
                JsonValueKind.Object when v.TryGetProperty("b", out var b) => Convert.FromHexString(b.GetString()!),
                _ => v.ToString(),
            }).ToArray();
            list.Add(new LegacyOption(name, values));
        }
        return list;
    }

    /// <summary>Serializes a parse_headers result.</summary>
    public static void WriteParsed(Utf8JsonWriter w, LegacyParsed p)
    {
        w.WriteStartObject();
        w.WriteStartObject("ip");
        w.WriteNumber("inith", p.Ip.inith);
        w.WriteNumber("length", p.Ip.length);
        w.WriteNumber("id", p.Ip.id);
        w.WriteNumber("flags", p.Ip.flags);
        w.WriteNumber("ttl", p.Ip.ttl);
        w.WriteNumber("proto", p.Ip.proto);
        w.WriteNumber("hdrcksum", p.Ip.hdrcksum);
        w.WriteNumber("srcaddr", p.Ip.srcaddr);
        w.WriteNumber("dstaddr", p.Ip.dstaddr);
        w.WriteNumber("version", p.Ip.version);
        w.WriteNumber("hdrlen", p.Ip.hdrlen);
        w.WriteEndObject();
        w.WriteStartObject("tcp");
        w.WriteNumber("srcport", p.Tcp.srcport);
        w.WriteNumber("dstport", p.Tcp.dstport);
        w.WriteNumber("seqno", p.Tcp.seqno);
        w.WriteNumber("ackno", p.Tcp.ackno);
        w.WriteNumber("hlen", p.Tcp.hlen);
        w.WriteNumber("flag", p.Tcp.flag);
        w.WriteNumber("window", p.Tcp.window);
        w.WriteNumber("checksum", p.Tcp.checksum);
        w.WriteNumber("urg", p.Tcp.urg);
        w.WriteString("option", Convert.ToHexStringLower(p.Tcp.option));
        w.WriteNumber("offset", p.Tcp.offset);
        w.WriteNumber("hdrlen", p.Tcp.hdrlen);
        w.WriteEndObject();
        w.WriteStartArray("opts");
        foreach (var o in p.Options)
            WriteJson(w, o);
        w.WriteEndArray();
        w.WriteString("payload", Convert.ToHexStringLower(p.Payload));
        w.WriteEndObject();
    }

    /// <summary>Runs <paramref name="write"/> against a JSON writer and returns the UTF-8 text.</summary>
    public static ReadOnlyMemory<byte> Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
            write(w);
        return buffer.WrittenMemory;
    }
}
