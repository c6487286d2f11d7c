using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Format;

/// <summary>
/// One segment written as a packetdrill line, for instance
/// <c>S 20000:20000(0) win 8192 &lt;mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop&gt;</c>.
/// <para>The first word is the flags: <c>F</c> FIN, <c>S</c> SYN, <c>R</c> RST, <c>P</c> PSH,
/// <c>.</c> ACK, <c>U</c> URG, <c>E</c> ECE, <c>W</c> CWR, <c>N</c> NS/AE (RFC 3540/Accurate ECN),
/// in any order; <c>-</c> for none. Then, all optional and in any order:</para>
/// <list type="bullet">
/// <item><c>start:end(len)</c> sequence number and payload length (<c>end - start</c> must be <c>len</c>; <c>start:end</c> alone works too);
/// the payload is <c>len</c> zero bytes unless one is given</item>
/// <item><c>ack N</c>, <c>win N</c> (65535 when not given), <c>urg N</c> (urgent pointer), <c>&lt;option list&gt;</c> (see <see cref="OptionNotation"/>)</item>
/// <item>extensions: <c>ttl N</c> (hop limit on IPv6, default 64), <c>tos N</c> (traffic class on IPv6), <c>id N</c> (IPv4 ID), <c>df</c> (IPv4 don't fragment),
/// <c>res N</c> (the three reserved TCP bits), <c>doff N</c> (a data offset in words, possibly a lie),
/// <c>csum 0xNNNN</c> (a TCP checksum, wrong on purpose), <c>ipcsum 0xNNNN</c> (an IPv4 header checksum)</item>
/// </list>
/// Numbers are decimal or <c>0x</c> hex. Errors are <see cref="NotationException"/>s naming the token and its position.
/// </summary>
public static class SegmentNotation
{
    /// <summary>The window written when the line gives none.</summary>
    public const ushort DefaultWindow = 65535;

    /// <summary>
    /// Builds the segment a line describes between two endpoints of the same family.
    /// <paramref name="payload"/>, when given, is the payload; a <c>(len)</c> in the line must then match its length.
    /// </summary>
    public static TcpSegment Parse(string text, IPEndPoint source, IPEndPoint destination, ReadOnlyMemory<byte>? payload = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily)
            throw new ArgumentException("Source and destination must both be IPv4 or both be IPv6.", nameof(destination));
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;

        var tokens = Tokenize(text);
        if (tokens.Count == 0)
            throw new NotationException("", 0, "expected the flags (S, S., ., P., F., R, R. ...; '-' for none)");
        var flags = ParseFlags(tokens[0]);

        SeqNumber seq = 0;
        int? length = null;
        Token? seqToken = null;
        uint ack = 0;
        ushort window = DefaultWindow, urgent = 0;
        ImmutableArray<TcpOption> options = [];
        Token? optionToken = null;
        byte? ttl = null, tos = null, doff = null, reserved = null;
        ushort? id = null, csum = null, ipcsum = null;
        bool df = false;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        for (int i = 1; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Text.StartsWith('<'))
            {
                if (optionToken is not null)
                    throw TokenCursor.Error(t, "a second option list (put every option in one <...>)");
                optionToken = t;
                options = OptionNotation.ParseList(t.Text, t.Position);
                continue;
            }
            if (t.Text.Length > 0 && char.IsAsciiDigit(t.Text[0]))
            {
                if (seqToken is not null)
                    throw TokenCursor.Error(t, "a second sequence range");
                seqToken = t;
                (seq, length) = ParseRange(t);
                continue;
            }
            string key = t.Text.ToLowerInvariant();
            if (key is "ack" or "win" or "urg" or "ttl" or "tos" or "id" or "doff" or "csum" or "ipcsum" or "res" or "df" && !seen.Add(key))
                throw TokenCursor.Error(t, $"'{key}' is given twice");
            if (key == "df")
            {
                if (v6) throw TokenCursor.Error(t, "'df' is an IPv4 flag; IPv6 has none");
                df = true;
                continue;
            }
            if (key is not ("ack" or "win" or "urg" or "ttl" or "tos" or "id" or "doff" or "csum" or "ipcsum" or "res"))
                throw TokenCursor.Error(t, "unknown word (expected start:end(len), ack, win, urg, <options>, ttl, tos, id, df, res, doff, csum or ipcsum)");
            if (i + 1 >= tokens.Count)
                throw new NotationException(t.Text, t.Position, $"'{key}' needs a value");
            var value = tokens[++i];
            switch (key)
            {
                case "ack": ack = NotationValues.UInt32(value, "the acknowledgment number"); break;
                case "win": window = NotationValues.UInt16(value, "the window"); break;
                case "urg": urgent = NotationValues.UInt16(value, "the urgent pointer"); break;
                case "ttl": ttl = NotationValues.Byte(value, "the TTL"); break;
                case "tos": tos = NotationValues.Byte(value, "the TOS"); break;
                case "id":
                    if (v6) throw TokenCursor.Error(t, "'id' is the IPv4 identification; IPv6 has none");
                    id = NotationValues.UInt16(value, "the IP ID");
                    break;
                case "doff": doff = (byte)NotationValues.Number(value, 15, "the data offset in 32-bit words"); break;
                case "res": reserved = (byte)NotationValues.Number(value, 7, "the reserved bits"); break;
                case "csum": csum = NotationValues.UInt16(value, "the TCP checksum"); break;
                case "ipcsum":
                    if (v6) throw TokenCursor.Error(t, "'ipcsum' is the IPv4 header checksum; IPv6 has none");
                    ipcsum = NotationValues.UInt16(value, "the IP header checksum");
                    break;
            }
        }

        ReadOnlyMemory<byte> data;
        if (payload is { } given)
        {
            if (length is { } n && n != given.Length)
                throw TokenCursor.Error(seqToken!.Value, $"the range says {n} payload bytes but the payload given has {given.Length}");
            data = given;
        }
        else
        {
            data = length is > 0 ? new byte[length.Value] : ReadOnlyMemory<byte>.Empty;
        }

        IpHeader ip = v6
            ? new Ipv6Header { Source = source.Address, Destination = destination.Address, Ttl = ttl ?? 64, TrafficClass = tos ?? 0 }
            : new Ipv4Header
            {
                Source = source.Address, Destination = destination.Address, Ttl = ttl ?? 64, Tos = tos ?? 0,
                Identification = id ?? 0, DontFragment = df, Checksum = ipcsum,
            };
        var segment = new TcpSegment
        {
            Ip = ip,
            SourcePort = (ushort)source.Port,
            DestinationPort = (ushort)destination.Port,
            Sequence = seq,
            Acknowledgment = ack,
            Flags = flags,
            Reserved = reserved ?? 0,
            Window = window,
            UrgentPointer = urgent,
            Options = options,
            Payload = data,
            DataOffset = doff,
            Checksum = csum,
        };
        if (doff is null && segment.OptionsLength > TcpOptionKind.MaxOptionSpace)
            throw TokenCursor.Error(optionToken!.Value,
                $"the options take {segment.OptionsLength} bytes but a TCP header holds at most 40 (add 'doff N' to write them anyway)");
        int total = segment.GetEncodedLength();
        if (total > ushort.MaxValue + (v6 ? 40 : 0))
            throw TokenCursor.Error(seqToken ?? tokens[0], $"the packet would be {total} bytes, more than an IP length field can say");
        return segment;
    }

    /// <summary>Like <see cref="Parse"/>, but returns the error instead of throwing it.</summary>
    public static bool TryParse(string text, IPEndPoint source, IPEndPoint destination, out TcpSegment? segment,
        out NotationException? error, ReadOnlyMemory<byte>? payload = null)
    {
        try
        {
            segment = Parse(text, source, destination, payload);
            error = null;
            return true;
        }
        catch (NotationException e)
        {
            segment = null;
            error = e;
            return false;
        }
    }

    /// <summary>
    /// The line for a segment, with every extension needed to build the same bytes again
    /// (<c>Parse(Format(s), src, dst, s.Payload)</c> encodes like <paramref name="segment"/> for
    /// segments without IPv4 options or IPv6 flow labels).
    /// </summary>
    public static string Format(TcpSegment segment) => DrillSummary.Format(segment, DrillFields.Full);

    internal static TcpFlags ParseFlags(Token t)
    {
        if (t.Text == "-")
            return TcpFlags.None;
        TcpFlags flags = TcpFlags.None;
        for (int i = 0; i < t.Text.Length; i++)
        {
            TcpFlags f = t.Text[i] switch
            {
                'F' => TcpFlags.Fin, 'S' => TcpFlags.Syn, 'R' => TcpFlags.Rst, 'P' => TcpFlags.Psh, '.' => TcpFlags.Ack,
                'U' => TcpFlags.Urg, 'E' => TcpFlags.Ece, 'W' => TcpFlags.Cwr, 'N' => TcpFlags.Ae,
                _ => TcpFlags.None,
            };
            if (f == TcpFlags.None)
                throw TokenCursor.Error(t, $"'{t.Text[i]}' is not a flag (F S R P . U E W N, or '-' for none)");
            if ((flags & f) != 0)
                throw TokenCursor.Error(t, $"flag '{t.Text[i]}' is given twice");
            flags |= f;
        }
        return flags;
    }

    private static (SeqNumber Start, int? Length) ParseRange(Token t)
    {
        string s = t.Text;
        int colon = s.IndexOf(':');
        if (colon <= 0)
            throw TokenCursor.Error(t, "expected a sequence range start:end(len)");
        int paren = s.IndexOf('(', colon);
        uint start = NotationValues.UInt32(new Token(s[..colon], t.Position), "the start sequence number");
        string endText = paren < 0 ? s[(colon + 1)..] : s[(colon + 1)..paren];
        uint end = NotationValues.UInt32(new Token(endText, t.Position + colon + 1), "the end sequence number");
        int span = unchecked((int)(end - start));
        if (paren >= 0)
        {
            if (!s.EndsWith(')'))
                throw TokenCursor.Error(t, "expected start:end(len) with a closing parenthesis");
            int len = (int)NotationValues.Number(new Token(s[(paren + 1)..^1], t.Position + paren + 1), ushort.MaxValue, "the payload length");
            if (span != len)
                throw TokenCursor.Error(t, $"end - start is {span} but the length says {len}");
            return (start, len);
        }
        if (span < 0 || span > ushort.MaxValue)
            throw TokenCursor.Error(t, "the end sequence number is before the start");
        return (start, span);
    }

    /// <summary>Whitespace-separated words; an option list from '&lt;' to '&gt;' is one word whatever its spaces.</summary>
    private static List<Token> Tokenize(string text)
    {
        var list = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            int start = i;
            if (text[i] == '<')
            {
                int close = text.IndexOf('>', i);
                if (close < 0)
                    throw new NotationException(text[i..], i, "the option list has no closing '>'");
                i = close + 1;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != '<') i++;
            }
            list.Add(new Token(text[start..i], start));
        }
        return list;
    }
}
