using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>
/// TCP options in a packetdrill-style notation, written and read back. Numbers are decimal or
/// <c>0x</c> hex; byte strings are hex digits (an optional <c>0x</c> prefix). Words are
/// case-insensitive. <c>Parse(Format(o))</c> encodes to the same bytes as <c>o</c> for every option.
/// <list type="table">
/// <item><term><c>eol</c>, <c>eol trailer 0000</c></term><description>kind 0 (with the bytes that followed it)</description></item>
/// <item><term><c>nop</c></term><description>kind 1</description></item>
/// <item><term><c>mss 512</c></term><description>kind 2</description></item>
/// <item><term><c>wscale 3</c></term><description>kind 3</description></item>
/// <item><term><c>sackOK</c></term><description>kind 4</description></item>
/// <item><term><c>sack 1:2 3:4</c></term><description>kind 5, one to four left:right blocks</description></item>
/// <item><term><c>TS val 12345 ecr 0</c></term><description>kind 8</description></item>
/// <item><term><c>md5 &lt;hex&gt;</c></term><description>kind 19, the digest</description></item>
/// <item><term><c>ao keyid 1 rnext 2 mac &lt;hex&gt;</c></term><description>kind 29 (TCP-AO)</description></item>
/// <item><term><c>FO &lt;hex&gt;</c>, <c>FO</c></term><description>kind 34, TCP Fast Open cookie; no cookie is a request (packetdrill's spelling)</description></item>
/// <item><term><c>exp 254 exid 0xf989 data &lt;hex&gt;</c></term><description>kinds 253/254 with an RFC 6994 ExID</description></item>
/// <item><term><c>mp_capable v1 flags 0x81 skey 0x.. rkey 0x.. dlen N csum 0x..</c></term><description>RFC 8684 MP_CAPABLE (keys, length and checksum optional)</description></item>
/// <item><term><c>mp_join_syn backup id 1 token 0x.. nonce 0x..</c></term><description>MP_JOIN on a SYN (<c>backup</c> optional)</description></item>
/// <item><term><c>mp_join_synack backup id 1 hmac 0x.. nonce 0x..</c></term><description>MP_JOIN on a SYN/ACK, 64-bit truncated HMAC</description></item>
/// <item><term><c>mp_join_ack hmac &lt;hex&gt;</c></term><description>MP_JOIN on the third ACK, 160-bit HMAC</description></item>
/// <item><term><c>dss ack 0x.. ack64 dsn 0x.. dsn64 ssn N dlen N csum 0x.. fin</c></term><description>DSS; every part optional</description></item>
/// <item><term><c>add_addr id 1 addr 10.0.0.1 port 80 hmac 0x.. echo</c></term><description>ADD_ADDR (port and hmac optional; <c>echo</c> sets E)</description></item>
/// <item><term><c>remove_addr 1,2</c></term><description>REMOVE_ADDR with address IDs</description></item>
/// <item><term><c>mp_prio backup id 3</c></term><description>MP_PRIO (both parts optional)</description></item>
/// <item><term><c>mp_fail dsn 0x..</c>, <c>mp_fastclose key 0x..</c>, <c>mp_tcprst flags 0x1 reason 2</c></term><description>RFC 8684</description></item>
/// <item><term><c>mp_capable_legacy token 0x.. idsn 0x..</c>, <c>mp_data dsn N len N ssn N</c>, <c>mp_ack N</c></term><description>the pre-RFC draft options of the legacy tools (kinds 30, 31, 32)</description></item>
/// <item><term><c>kind 200 len 9 data cafe</c></term><description>any kind, raw: <c>len</c> (the length byte, possibly a lie) and <c>data</c> optional; <c>kind 200 nolen</c> writes no length byte</description></item>
/// </list>
/// Malformed options and options built with a lying length are written in the raw form, so they
/// read back to the same bytes.
/// </summary>
public static class OptionNotation
{
    private const int StackChars = 512;

    /// <summary>One option in notation form.</summary>
    [SkipLocalsInit]
    public static string Format(TcpOption option)
    {
        Span<char> stack = stackalloc char[StackChars];
        var w = new CharWriter(stack);
        Write(option, ref w);
        if (!w.Overflow)
            return new string(w.Written);
        char[] rented = ArrayPool<char>.Shared.Rent(option.Length * 8 + 256);
        try
        {
            var big = new CharWriter(rented);
            Write(option, ref big);
            return new string(big.Written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Writes one option into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryFormat(TcpOption option, Span<char> destination, out int charsWritten)
    {
        var w = new CharWriter(destination);
        Write(option, ref w);
        charsWritten = w.Overflow ? 0 : w.Length;
        return !w.Overflow;
    }

    /// <summary>A list of options separated by commas (without the angle brackets).</summary>
    public static string FormatList(IEnumerable<TcpOption> options)
        => string.Join(",", options.Select(Format));

    /// <summary>
    /// The options of a wire option space, separated by commas, as the summaries print them.
    /// EOL padding made only of zeros is shown as a plain <c>eol</c> unless <paramref name="exact"/>
    /// asks for every byte (then <see cref="ParseList(string)"/> gives back exactly these bytes).
    /// </summary>
    public static string FormatOptionSpace(ReadOnlySpan<byte> optionSpace, bool exact = false)
    {
        char[] rented = ArrayPool<char>.Shared.Rent(optionSpace.Length * 32 + 64);
        try
        {
            var w = new CharWriter(rented);
            WriteOptionSpace(optionSpace, ref w, trimZeroEol: !exact);
            return new string(w.Written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Reads one option; throws <see cref="NotationException"/> naming the bad token.</summary>
    public static TcpOption Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var c = TokenCursor.Split(text);
        var o = ParseOne(c, text.Length);
        if (!c.AtEnd)
            throw TokenCursor.Error(c.TakeAny(), "unexpected word after the option");
        return o;
    }

    /// <summary>Reads one option; false with the error when the text is not a valid option.</summary>
    public static bool TryParse(string text, out TcpOption? option, out NotationException? error)
    {
        try
        {
            option = Parse(text);
            error = null;
            return true;
        }
        catch (NotationException e)
        {
            option = null;
            error = e;
            return false;
        }
    }

    /// <summary>
    /// Reads a comma-separated option list, with or without the surrounding <c>&lt;</c> <c>&gt;</c>.
    /// Positions in errors count from the start of <paramref name="text"/>.
    /// </summary>
    public static ImmutableArray<TcpOption> ParseList(string text) => ParseList(text, 0);

    internal static ImmutableArray<TcpOption> ParseList(string text, int baseOffset)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = 0, end = text.Length;
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        if (start < end && text[start] == '<')
        {
            if (text[end - 1] != '>')
                throw new NotationException(text[start..end], baseOffset + start, "an option list that starts with '<' must end with '>'");
            start++;
            end--;
        }
        var pieces = new List<(int Start, int End)>();
        int pieceStart = start;
        for (int i = start; i <= end; i++)
        {
            if (i < end && text[i] != ',')
                continue;
            // REMOVE_ADDR lists its IDs with commas (remove_addr 1,2): a piece that is only a
            // number can be nothing else, so it continues the previous piece.
            if (pieces.Count > 0 && IsNumber(text.AsSpan(pieceStart, i - pieceStart))
                && text.AsSpan(pieces[^1].Start, pieces[^1].End - pieces[^1].Start).Trim().StartsWith("remove_addr", StringComparison.OrdinalIgnoreCase))
                pieces[^1] = (pieces[^1].Start, i);
            else
                pieces.Add((pieceStart, i));
            pieceStart = i + 1;
        }
        if (pieces.Count == 1 && text.AsSpan(pieces[0].Start, pieces[0].End - pieces[0].Start).IsWhiteSpace())
            return [];
        var list = ImmutableArray.CreateBuilder<TcpOption>(pieces.Count);
        foreach (var (s, e) in pieces)
        {
            var c = TokenCursor.Split(text[s..e], baseOffset + s);
            if (c.AtEnd)
            {
                // Name the comma next to the empty place: the one after it, or before it at the end.
                int comma = e < end ? e : s - 1;
                if (comma >= 0 && text[comma] == ',')
                    throw new NotationException(",", baseOffset + comma, "empty option in the list");
                throw new NotationException("", baseOffset + s, "empty option in the list");
            }
            list.Add(ParseOne(c, baseOffset + e));
            if (!c.AtEnd)
                throw TokenCursor.Error(c.TakeAny(), $"unexpected word in option '{text[s..e].Trim()}'");
        }
        return list.MoveToImmutable();
    }

    private static bool IsNumber(ReadOnlySpan<char> s)
    {
        s = s.Trim();
        if (s.IsEmpty) return false;
        foreach (char ch in s)
            if (!char.IsAsciiHexDigit(ch) && ch != 'x' && ch != 'X') return false;
        return char.IsAsciiDigit(s[0]);
    }

    // ---------------------------------------------------------------- writing typed options

    internal static void Write(TcpOption option, ref CharWriter w)
    {
        switch (option)
        {
            case TcpTlvOption { DeclaredLengthOverride: not null }:
                WriteEncodedRaw(option, ref w);
                return;
            case EndOfOptionListOption e:
                w.Append("eol");
                if (!e.Trailer.IsEmpty) { w.Append(" trailer "); w.AppendHexBytes(e.Trailer.Span); }
                return;
            case NopOption: w.Append("nop"); return;
            case MssOption m: w.Append("mss "); w.Append(m.Value); return;
            case WindowScaleOption ws: w.Append("wscale "); w.Append(ws.Shift); return;
            case SackPermittedOption: w.Append("sackOK"); return;
            case SackOption s:
                w.Append("sack");
                foreach (var b in s.Blocks) { w.Append(' '); w.Append(b.Left.Value); w.Append(':'); w.Append(b.Right.Value); }
                return;
            case TimestampsOption t: WriteTimestamps(t.Value, t.Echo, ref w); return;
            case Md5SignatureOption md5:
                w.Append("md5");
                if (!md5.Digest.IsEmpty) { w.Append(' '); w.AppendHexBytes(md5.Digest.Span); }
                return;
            case TcpAoOption ao:
                w.Append("ao keyid "); w.Append(ao.KeyId); w.Append(" rnext "); w.Append(ao.RNextKeyId);
                if (!ao.Mac.IsEmpty) { w.Append(" mac "); w.AppendHexBytes(ao.Mac.Span); }
                return;
            case FastOpenOption fo:
                w.Append("FO");
                if (!fo.Cookie.IsEmpty) { w.Append(' '); w.AppendHexBytes(fo.Cookie.Span); }
                return;
            case ExperimentalOption x:
                w.Append("exp "); w.Append(x.ExperimentKind); w.Append(" exid "); w.AppendHex(x.ExId);
                if (!x.Data.IsEmpty) { w.Append(" data "); w.AppendHexBytes(x.Data.Span); }
                return;
            case MpCapableOption c:
                w.Append("mp_capable v"); w.Append(c.Version); w.Append(" flags "); w.AppendHex(c.Flags);
                if (c.SenderKey is { } sk) { w.Append(" skey "); w.AppendHex(sk); }
                if (c.ReceiverKey is { } rk) { w.Append(" rkey "); w.AppendHex(rk); }
                if (c.DataLevelLength is { } dl) { w.Append(" dlen "); w.Append(dl); }
                if (c.Checksum is { } cs) { w.Append(" csum "); w.AppendHex(cs); }
                return;
            case MpJoinSynOption j:
                w.Append(j.Backup ? "mp_join_syn backup id " : "mp_join_syn id "); w.Append(j.AddressId);
                w.Append(" token "); w.AppendHex(j.ReceiverToken); w.Append(" nonce "); w.AppendHex(j.SenderRandom);
                return;
            case MpJoinSynAckOption j:
                w.Append(j.Backup ? "mp_join_synack backup id " : "mp_join_synack id "); w.Append(j.AddressId);
                w.Append(" hmac "); w.AppendHex(j.TruncatedHmac); w.Append(" nonce "); w.AppendHex(j.SenderRandom);
                return;
            case MpJoinAckOption j:
                w.Append("mp_join_ack");
                if (!j.Hmac.IsEmpty) { w.Append(" hmac "); w.AppendHexBytes(j.Hmac.Span); }
                return;
            case DssOption d:
                w.Append("dss");
                if (d.DataAck is { } a) { w.Append(" ack "); w.AppendHex(a); if (d.DataAck64) w.Append(" ack64"); }
                if (d.Dsn is { } dsn)
                {
                    w.Append(" dsn "); w.AppendHex(dsn); if (d.Dsn64) w.Append(" dsn64");
                    w.Append(" ssn "); w.Append(d.SubflowSeq); w.Append(" dlen "); w.Append(d.DataLevelLength);
                    if (d.Checksum is { } dc) { w.Append(" csum "); w.AppendHex(dc); }
                }
                if (d.DataFin) w.Append(" fin");
                return;
            case AddAddrOption aa:
                w.Append("add_addr id "); w.Append(aa.AddressId); w.Append(" addr "); w.AppendAddress(aa.Address);
                if (aa.Port is { } p) { w.Append(" port "); w.Append(p); }
                if (aa.Hmac is { } h) { w.Append(" hmac "); w.AppendHex(h); }
                if (aa.Echo) w.Append(" echo");
                return;
            case RemoveAddrOption r:
                w.Append("remove_addr");
                for (int i = 0; i < r.AddressIds.Length; i++) { w.Append(i == 0 ? ' ' : ','); w.Append(r.AddressIds[i]); }
                return;
            case MpPrioOption pr:
                w.Append("mp_prio");
                if (pr.Backup) w.Append(" backup");
                if (pr.AddressId is { } pid) { w.Append(" id "); w.Append(pid); }
                return;
            case MpFailOption f: w.Append("mp_fail dsn "); w.AppendHex(f.Dsn); return;
            case MpFastCloseOption fc: w.Append("mp_fastclose key "); w.AppendHex(fc.ReceiverKey); return;
            case MpTcpRstOption rst:
                w.Append("mp_tcprst flags "); w.AppendHex(rst.Flags); w.Append(" reason "); w.Append(rst.Reason);
                return;
            case LegacyMpCapableOption lc:
                w.Append("mp_capable_legacy token "); w.AppendHex(lc.Token); w.Append(" idsn "); w.AppendHex(lc.Idsn);
                return;
            case LegacyMpDataOption ld:
                w.Append("mp_data dsn "); w.Append(ld.Dsn); w.Append(" len "); w.Append(ld.MappedLength); w.Append(" ssn "); w.Append(ld.SubflowSeq);
                return;
            case LegacyMpAckOption la: w.Append("mp_ack "); w.Append(la.DataAck); return;
            case RawOption raw:
                WriteRaw(raw.Kind, raw.DeclaredLength, raw.Data.Span, ref w);
                return;
            case MalformedOption bad:
                WriteRaw(bad.Kind, bad.DeclaredLength, bad.Data.Span, ref w);
                return;
            default:
                // An option type this notation does not know (e.g. a block of pre-composed
                // option bytes): show what its bytes say on the wire.
                WriteEncoded(option, ref w);
                return;
        }
    }

    private static void WriteTimestamps(uint value, uint echo, ref CharWriter w)
    {
        w.Append("TS val "); w.Append(value); w.Append(" ecr "); w.Append(echo);
    }

    /// <summary>Raw form: <c>kind K</c>, then <c>nolen</c> or <c>len L</c> when the length byte is not the real length, then <c>data HEX</c>.</summary>
    private static void WriteRaw(byte kind, int declaredLength, scoped ReadOnlySpan<byte> data, ref CharWriter w)
    {
        w.Append("kind "); w.Append(kind);
        if (declaredLength < 0) w.Append(" nolen");
        else if (declaredLength != 2 + data.Length) { w.Append(" len "); w.Append((uint)declaredLength); }
        if (!data.IsEmpty) { w.Append(" data "); w.AppendHexBytes(data); }
    }

    /// <summary>A TLV option with a lying length byte, in the raw form from its encoding.</summary>
    private static void WriteEncodedRaw(TcpOption option, ref CharWriter w)
    {
        int n = option.Length;
        byte[]? rented = n > 256 ? ArrayPool<byte>.Shared.Rent(n) : null;
        Span<byte> bytes = rented is null ? stackalloc byte[256] : rented;
        bytes = bytes[..n];
        option.Write(bytes);
        WriteRaw(bytes[0], bytes[1], bytes[2..], ref w);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    private static void WriteEncoded(TcpOption option, ref CharWriter w)
    {
        int n = option.Length;
        byte[]? rented = n > 256 ? ArrayPool<byte>.Shared.Rent(n) : null;
        Span<byte> bytes = rented is null ? stackalloc byte[256] : rented;
        bytes = bytes[..n];
        option.Write(bytes);
        WriteOptionSpace(bytes, ref w, trimZeroEol: false);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    // ---------------------------------------------------------------- writing wire options

    /// <summary>Every option in <paramref name="space"/>, comma-separated, without allocating for the common kinds.</summary>
    internal static void WriteOptionSpace(scoped ReadOnlySpan<byte> space, ref CharWriter w, bool trimZeroEol = true)
    {
        bool first = true;
        foreach (var v in new TcpOptionEnumerator(space))
        {
            if (!first) w.Append(',');
            first = false;
            WriteView(v, ref w, trimZeroEol);
        }
    }

    /// <summary>One option as found on the wire; the notation reads back to the same bytes.</summary>
    internal static void WriteView(scoped TcpOptionView v, ref CharWriter w, bool trimZeroEol)
    {
        if (v.Problem is not OptionProblem.None)
        {
            WriteRaw(v.Kind, v.DeclaredLength, v.Data, ref w);
            return;
        }
        switch (v.Kind)
        {
            case TcpOptionKind.EndOfOptionList:
                w.Append("eol");
                if (!v.Data.IsEmpty && !(trimZeroEol && !v.Data.ContainsAnyExcept((byte)0)))
                {
                    w.Append(" trailer "); w.AppendHexBytes(v.Data);
                }
                return;
            case TcpOptionKind.NoOperation: w.Append("nop"); return;
            case TcpOptionKind.MaximumSegmentSize: w.Append("mss "); w.Append(BinaryPrimitives.ReadUInt16BigEndian(v.Data)); return;
            case TcpOptionKind.WindowScale: w.Append("wscale "); w.Append(v.Data[0]); return;
            case TcpOptionKind.SackPermitted: w.Append("sackOK"); return;
            case TcpOptionKind.Timestamps:
                WriteTimestamps(BinaryPrimitives.ReadUInt32BigEndian(v.Data), BinaryPrimitives.ReadUInt32BigEndian(v.Data[4..]), ref w);
                return;
            case TcpOptionKind.Sack:
                w.Append("sack");
                for (int i = 0; i + 8 <= v.Data.Length; i += 8)
                {
                    w.Append(' '); w.Append(BinaryPrimitives.ReadUInt32BigEndian(v.Data[i..]));
                    w.Append(':'); w.Append(BinaryPrimitives.ReadUInt32BigEndian(v.Data[(i + 4)..]));
                }
                return;
        }
        // Rarer kinds go through the typed parser, which also decides when only raw bytes are exact.
        var typed = TcpOptionParser.FromView(v);
        if (typed is RawOption or MalformedOption)
            WriteRaw(v.Kind, v.DeclaredLength, v.Data, ref w);
        else
            Write(typed, ref w);
    }

    // ---------------------------------------------------------------- reading

    private static readonly string[] None = [];

    internal static TcpOption ParseOne(TokenCursor c, int endPosition)
    {
        var name = c.Take("an option");
        switch (name.Text.ToLowerInvariant())
        {
            case "eol":
            {
                var a = NotationArgs.Read(c, name, ["trailer"], None);
                return a.TryGet("trailer", out var t) ? new EndOfOptionListOption { Trailer = NotationValues.Hex(t, "the EOL trailer") } : EndOfOptionListOption.Instance;
            }
            case "nop": return NopOption.Instance;
            case "mss": return new MssOption(NotationValues.UInt16(c.Take("the MSS value after 'mss'"), "the MSS"));
            case "wscale": return new WindowScaleOption(NotationValues.Byte(c.Take("the shift count after 'wscale'"), "the window scale shift"));
            case "sackok": return SackPermittedOption.Instance;
            case "sack":
            {
                var blocks = ImmutableArray.CreateBuilder<SackBlock>();
                while (!c.AtEnd)
                {
                    var t = c.TakeAny();
                    int colon = t.Text.IndexOf(':');
                    if (colon <= 0)
                        throw TokenCursor.Error(t, "expected a SACK block left:right");
                    var left = NotationValues.UInt32(new Token(t.Text[..colon], t.Position), "the SACK left edge");
                    var right = NotationValues.UInt32(new Token(t.Text[(colon + 1)..], t.Position + colon + 1), "the SACK right edge");
                    blocks.Add(new SackBlock(left, right));
                }
                return new SackOption(blocks.ToImmutable());
            }
            case "ts":
            {
                var a = NotationArgs.Read(c, name, ["val", "ecr"], None);
                return new TimestampsOption(NotationValues.UInt32(a.Require("val", "N"), "TSval"), NotationValues.UInt32(a.Require("ecr", "N"), "TSecr"));
            }
            case "md5":
                return new Md5SignatureOption(c.AtEnd ? Array.Empty<byte>() : NotationValues.Hex(c.TakeAny(), "the MD5 digest"));
            case "ao":
            {
                var a = NotationArgs.Read(c, name, ["keyid", "rnext", "mac"], None);
                return new TcpAoOption(NotationValues.Byte(a.Require("keyid", "N"), "the KeyID"), NotationValues.Byte(a.Require("rnext", "N"), "the RNextKeyID"),
                    a.TryGet("mac", out var mac) ? NotationValues.Hex(mac, "the MAC") : Array.Empty<byte>());
            }
            case "fo":
                return new FastOpenOption(c.AtEnd ? Array.Empty<byte>() : NotationValues.Hex(c.TakeAny(), "the Fast Open cookie"));
            case "exp":
            {
                var kt = c.Take("the kind (253 or 254) after 'exp'");
                byte kind = NotationValues.Byte(kt, "the experimental kind");
                if (kind is not (TcpOptionKind.Experimental1 or TcpOptionKind.Experimental2))
                    throw TokenCursor.Error(kt, "experimental options are kind 253 or 254 (use 'kind N' for any other)");
                var a = NotationArgs.Read(c, name, ["exid", "data"], None);
                return new ExperimentalOption(kind, NotationValues.UInt16(a.Require("exid", "0xNNNN"), "the ExID"),
                    a.TryGet("data", out var d) ? NotationValues.Hex(d, "the data") : Array.Empty<byte>());
            }
            case "mp_capable":
            {
                var vt = c.Take("the version (v0 or v1) after 'mp_capable'");
                if (vt.Text.Length < 2 || char.ToLowerInvariant(vt.Text[0]) != 'v')
                    throw TokenCursor.Error(vt, "expected the MPTCP version as v0, v1 ... v15");
                byte version = (byte)NotationValues.Number(new Token(vt.Text[1..], vt.Position + 1), 15, "the MPTCP version");
                var a = NotationArgs.Read(c, name, ["flags", "skey", "rkey", "dlen", "csum"], None);
                return new MpCapableOption(version,
                    a.TryGet("flags", out var f) ? NotationValues.Byte(f, "the MP_CAPABLE flags") : (byte)0,
                    a.TryGet("skey", out var sk) ? NotationValues.UInt64(sk, "the sender's key") : null,
                    a.TryGet("rkey", out var rk) ? NotationValues.UInt64(rk, "the receiver's key") : null,
                    a.TryGet("dlen", out var dl) ? NotationValues.UInt16(dl, "the data-level length") : null,
                    a.TryGet("csum", out var cs) ? NotationValues.UInt16(cs, "the checksum") : null);
            }
            case "mp_join_syn":
            {
                var a = NotationArgs.Read(c, name, ["id", "token", "nonce"], ["backup"]);
                return new MpJoinSynOption(a.Has("backup"), NotationValues.Byte(a.Require("id", "N"), "the address ID"),
                    NotationValues.UInt32(a.Require("token", "0x.."), "the receiver's token"), NotationValues.UInt32(a.Require("nonce", "0x.."), "the sender's random number"));
            }
            case "mp_join_synack":
            {
                var a = NotationArgs.Read(c, name, ["id", "hmac", "nonce"], ["backup"]);
                return new MpJoinSynAckOption(a.Has("backup"), NotationValues.Byte(a.Require("id", "N"), "the address ID"),
                    NotationValues.UInt64(a.Require("hmac", "0x.."), "the truncated HMAC"), NotationValues.UInt32(a.Require("nonce", "0x.."), "the sender's random number"));
            }
            case "mp_join_ack":
            {
                var a = NotationArgs.Read(c, name, ["hmac"], None);
                return new MpJoinAckOption(a.TryGet("hmac", out var h) ? NotationValues.Hex(h, "the HMAC") : Array.Empty<byte>());
            }
            case "dss":
            {
                var a = NotationArgs.Read(c, name, ["ack", "dsn", "ssn", "dlen", "csum"], ["ack64", "dsn64", "fin"]);
                bool hasDsn = a.TryGet("dsn", out var dsn);
                if (!hasDsn)
                    foreach (var k in new[] { "ssn", "dlen", "csum" })
                        if (a.TryGet(k, out var stray))
                            throw TokenCursor.Error(stray, $"'{k}' belongs to a mapping: give 'dsn N' too");
                return new DssOption
                {
                    DataAck = a.TryGet("ack", out var ack) ? NotationValues.UInt64(ack, "the data ACK") : null,
                    DataAck64 = a.Has("ack64"),
                    Dsn = hasDsn ? NotationValues.UInt64(dsn, "the DSN") : null,
                    Dsn64 = a.Has("dsn64"),
                    SubflowSeq = a.TryGet("ssn", out var ssn) ? NotationValues.UInt32(ssn, "the subflow sequence number") : 0,
                    DataLevelLength = a.TryGet("dlen", out var dl) ? NotationValues.UInt16(dl, "the data-level length") : (ushort)0,
                    Checksum = a.TryGet("csum", out var cs) ? NotationValues.UInt16(cs, "the checksum") : null,
                    DataFin = a.Has("fin"),
                };
            }
            case "add_addr":
            {
                var a = NotationArgs.Read(c, name, ["id", "addr", "port", "hmac"], ["echo"]);
                return new AddAddrOption(a.Has("echo"), NotationValues.Byte(a.Require("id", "N"), "the address ID"),
                    NotationValues.Address(a.Require("addr", "ADDRESS"), "the address"),
                    a.TryGet("port", out var p) ? NotationValues.UInt16(p, "the port") : null,
                    a.TryGet("hmac", out var h) ? NotationValues.UInt64(h, "the truncated HMAC") : null);
            }
            case "remove_addr":
            {
                var ids = new List<byte>();
                while (!c.AtEnd)
                {
                    var t = c.TakeAny();
                    int at = 0;
                    foreach (var part in t.Text.Split(','))
                    {
                        if (part.Length > 0)
                            ids.Add(NotationValues.Byte(new Token(part, t.Position + at), "an address ID"));
                        at += part.Length + 1;
                    }
                }
                if (ids.Count == 0)
                    throw TokenCursor.Error(name, "'remove_addr' needs at least one address ID (remove_addr 1,2)");
                return new RemoveAddrOption([.. ids]);
            }
            case "mp_prio":
            {
                var a = NotationArgs.Read(c, name, ["id"], ["backup"]);
                return new MpPrioOption(a.Has("backup"), a.TryGet("id", out var id) ? NotationValues.Byte(id, "the address ID") : null);
            }
            case "mp_fail":
            {
                var a = NotationArgs.Read(c, name, ["dsn"], None);
                return new MpFailOption(NotationValues.UInt64(a.Require("dsn", "0x.."), "the DSN"));
            }
            case "mp_fastclose":
            {
                var a = NotationArgs.Read(c, name, ["key"], None);
                return new MpFastCloseOption(NotationValues.UInt64(a.Require("key", "0x.."), "the receiver's key"));
            }
            case "mp_tcprst":
            {
                var a = NotationArgs.Read(c, name, ["flags", "reason"], None);
                return new MpTcpRstOption(
                    a.TryGet("flags", out var f) ? (byte)NotationValues.Number(f, 15, "the U V W T flags") : (byte)0,
                    a.TryGet("reason", out var r) ? NotationValues.Byte(r, "the reason code") : (byte)0);
            }
            case "mp_capable_legacy":
            {
                var a = NotationArgs.Read(c, name, ["token", "idsn"], None);
                return new LegacyMpCapableOption(NotationValues.UInt32(a.Require("token", "0x.."), "the token"), NotationValues.UInt64(a.Require("idsn", "0x.."), "the IDSN"));
            }
            case "mp_data":
            {
                var a = NotationArgs.Read(c, name, ["dsn", "len", "ssn"], None);
                return new LegacyMpDataOption(NotationValues.UInt32(a.Require("dsn", "N"), "the DSN"),
                    NotationValues.UInt16(a.Require("len", "N"), "the mapped length"), NotationValues.UInt32(a.Require("ssn", "N"), "the subflow sequence number"));
            }
            case "mp_ack":
                return new LegacyMpAckOption(NotationValues.UInt32(c.Take("the data ACK after 'mp_ack'"), "the data ACK"));
            case "kind":
            {
                byte kind = NotationValues.Byte(c.Take("the kind number after 'kind'"), "the option kind");
                var a = NotationArgs.Read(c, name, ["len", "data"], ["nolen"]);
                byte[] data = a.TryGet("data", out var d) ? NotationValues.Hex(d, "the option data") : [];
                if (a.Has("nolen"))
                {
                    if (a.TryGet("len", out var both))
                        throw TokenCursor.Error(both, "'len' and 'nolen' exclude each other");
                    return new RawOption(kind, data) { OmitLength = true };
                }
                return a.TryGet("len", out var lt)
                    ? new RawOption(kind, data) { DeclaredLengthOverride = NotationValues.Byte(lt, "the length byte") }
                    : new RawOption(kind, data);
            }
            default:
                throw TokenCursor.Error(name, "unknown option (expected eol, nop, mss, wscale, sackOK, sack, TS, md5, ao, FO, exp, "
                    + "mp_capable, mp_join_syn, mp_join_synack, mp_join_ack, dss, add_addr, remove_addr, mp_prio, mp_fail, "
                    + "mp_fastclose, mp_tcprst, mp_capable_legacy, mp_data, mp_ack or kind N)");
        }
    }
}
