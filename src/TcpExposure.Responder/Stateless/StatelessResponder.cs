using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net.Sockets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Stateless;

/// <summary>
/// The stateless TCP responder (the legacy mptcp-server.py) as a pure function: one incoming
/// packet in, zero, one or two answer packets written into the caller's buffer. Nothing is kept
/// between calls and nothing is allocated, so one loop can answer floods.
/// </summary>
/// <remarks>
/// <para>Ignored: anything but TCP for <see cref="ResponderConfig.Address"/> and
/// <see cref="ResponderConfig.Port"/>, RSTs, TTL-1 packets, pure ACKs, SYN-ACKs, wrong checksums.</para>
/// <para>SYN: SYN-ACK, seq <see cref="ResponderConfig.Isn"/>, ack = seq + 1, options in this order:
/// MSS (4 bytes); NOP NOP TIMESTAMP when the SYN had one; NOP WSCALE; NOP NOP SACK_PERMITTED; the
/// MPTCP answer NOP-padded to a 4-byte boundary. Every answer's options are padded with EOL to a
/// multiple of 4 and an option that no longer fits in 40 bytes is left out.</para>
/// <para>Any other segment: ACK (PSH too when it has data), seq = received ack, ack = received seq +
/// payload length (+1 for FIN). A FIN gets that ACK, then a FIN+ACK with seq = the ACK's seq + its
/// payload length.</para>
/// <para>Options answered: TIMESTAMP → TIMESTAMP(<see cref="ResponderConfig.TsVal"/>, received
/// TSval); legacy MP_CAPABLE (kind 30 length 14) → MP_CAPABLE(<see cref="ResponderConfig.LegacyMpToken"/>,
/// <see cref="ResponderConfig.LegacyMpIdsn"/>); legacy MP_DATA (kind 31) → MP_ACK(DSN + its data
/// length); RFC 8684 MP_CAPABLE on a SYN → MP_CAPABLE length 12 (the SYN's version,
/// <see cref="ResponderConfig.MptcpFlags"/>, <see cref="ResponderConfig.MptcpKey"/>), on any other
/// segment → the received option byte for byte; RFC 8684 DSS with a mapping → DSS with only a Data
/// ACK = DSN + data-level length (+1 with DATA_FIN), 4 or 8 bytes as the DSN was.</para>
/// <para>Commands: see <see cref="ResponderCommands"/>.</para>
/// </remarks>
public static class StatelessResponder
{
    /// <summary>The largest answer this writes (an IPv6 packet of 64 KiB).</summary>
    public const int MaxAnswerLength = 65535 + 40;

    /// <summary>Parses <paramref name="packet"/> and answers it.</summary>
    public static ResponderResult Respond(ReadOnlySpan<byte> packet, Span<byte> output, ResponderConfig config)
    {
        var status = PacketView.TryParse(packet, out var view);
        if (status == PacketStatus.NotIp || status == PacketStatus.NotTcp)
            return new(ResponderVerdict.NotTcp);
        if (status != PacketStatus.Tcp)
            return new(ResponderVerdict.Malformed);
        return Respond(in view, output, config);
    }

    /// <summary>
    /// Answers <paramref name="incoming"/>: writes the answer(s) to <paramref name="output"/> back to
    /// back and says how long each is. Never throws on any input.
    /// </summary>
    public static ResponderResult Respond(in PacketView incoming, Span<byte> output, ResponderConfig config)
    {
        if (incoming.Protocol != 6 || incoming.Tcp.Bytes.Length < TcpHeaderView.MinLength)
            return new(ResponderVerdict.NotTcp);
        var tcp = incoming.Tcp;
        // A cut-off packet (IP length past the bytes) or an impossible data offset is not answered:
        // the payload length, and so the ack, would be a guess.
        if (tcp.OffsetProblem != DataOffsetProblem.None)
            return new(ResponderVerdict.Malformed);
        // A declared length shorter than the headers it must hold is as impossible as one past the bytes.
        if (incoming.LengthMismatch && (IpDeclaredLength(in incoming) > incoming.Bytes.Length
                || IpDeclaredLength(in incoming) < incoming.TransportOffset + TcpHeaderView.MinLength))
            return new(ResponderVerdict.Malformed);
        if (config.AddressFamily != AddressFamily.Unspecified)
        {
            bool v6 = config.AddressFamily == AddressFamily.InterNetworkV6;
            if (v6 != incoming.IsIpv6 || !incoming.Destination.SequenceEqual(config.AddressBytes))
                return new(ResponderVerdict.OtherAddress);
        }
        if (config.Port != 0 && tcp.DestinationPort != config.Port)
            return new(ResponderVerdict.OtherPort);
        var flags = tcp.Flags;
        if ((flags & TcpFlags.Rst) != 0)
            return new(ResponderVerdict.Reset);
        if (incoming.Ttl == 1)
            return new(ResponderVerdict.TtlOne);
        // A host's IP layer drops an IPv4 header with a bad checksum before TCP sees it; so do we.
        if (config.VerifyChecksum && (!incoming.TcpChecksumValid || (!incoming.IsIpv6 && !incoming.Ipv4.ChecksumValid)))
            return new(ResponderVerdict.BadChecksum);
        var payload = tcp.Payload;
        bool syn = (flags & TcpFlags.Syn) != 0;
        bool fin = (flags & TcpFlags.Fin) != 0;
        if (syn && (flags & TcpFlags.Ack) != 0)
            return new(ResponderVerdict.SynAck);
        if (!syn && !fin && payload.IsEmpty && (flags & TcpFlags.Ack) != 0)
            return new(ResponderVerdict.PureAck);

        byte command = payload.Length >= ResponderCommands.MinPayload && ResponderCommands.IsKnown(payload[0]) ? payload[0] : (byte)0;
        var opts = IncomingOptions.Read(tcp.OptionBytes, config.MptcpDialect);
        int ipLen = incoming.IsIpv6 ? 40 : 20;

        Span<byte> options = stackalloc byte[TcpOptionKind.MaxOptionSpace];
        int optLen = syn ? WriteSynAckOptions(options, in opts, config) : WriteAckOptions(options, in opts, command, config);
        int tcpLen = TcpHeaderView.MinLength + optLen;
        int headersLen = ipLen + tcpLen;

        uint seq, ack;
        TcpFlags outFlags;
        bool echo;
        if (syn)
        {
            seq = config.Isn;
            bool ackData = command is ResponderCommands.AckSynData or ResponderCommands.AckSynDataEcho;
            ack = unchecked(tcp.Sequence.Value + 1 + (ackData ? (uint)payload.Length : 0) + (fin ? 1u : 0u));
            outFlags = TcpFlags.Syn | TcpFlags.Ack;
            echo = command == ResponderCommands.AckSynDataEcho;
        }
        else
        {
            seq = tcp.Acknowledgment.Value;
            ack = command == ResponderCommands.DuplicateAck
                ? tcp.Sequence.Value
                : unchecked(tcp.Sequence.Value + (uint)payload.Length + (fin ? 1u : 0u));
            outFlags = TcpFlags.Ack;
            echo = command is ResponderCommands.Echo or ResponderCommands.EchoOldTimestamp or ResponderCommands.EchoHttp;
        }

        int receivedHeaders = incoming.TransportOffset + tcp.HeaderLength;
        int available = Math.Min(config.MaxPacketLength, output.Length) - headersLen;
        if (available < 0)
            return new(ResponderVerdict.OutputTooSmall);
        int echoLen = 0, httpLen = 0;
        if (echo)
        {
            int full = receivedHeaders + headersLen + payload.Length;
            int align = Math.Max(1, config.EchoAlign);
            full = (full + align - 1) / align * align;
            if (command == ResponderCommands.EchoHttp)
            {
                // Five digits cover any Content-Length that fits a packet.
                int prefix = config.HttpStatusLineBytes.Length + HttpHeaders.Length + 5 + 4;
                echoLen = Math.Max(0, Math.Min(full, available - prefix));
                httpLen = config.HttpStatusLineBytes.Length + HttpHeaders.Length + Digits(echoLen) + 4;
                if (httpLen > available)
                    return new(ResponderVerdict.OutputTooSmall);
            }
            else
            {
                echoLen = Math.Min(full, available);
            }
        }
        int payloadLen = httpLen + echoLen;
        int first = headersLen + payloadLen;
        int second = fin && !syn ? headersLen - optLen + AlignedTsLength(in opts) : 0;
        if (first + second > output.Length)
            return new(ResponderVerdict.OutputTooSmall);
        if (payloadLen > 0)
            outFlags |= TcpFlags.Psh;
        if (syn && fin)
            outFlags |= TcpFlags.Fin;

        var answer = output[..first];
        WriteHeaders(answer, in incoming, config, seq, ack, outFlags, options[..optLen], payloadLen);
        if (payloadLen > 0)
        {
            var body = answer[headersLen..];
            if (httpLen > 0)
            {
                WriteHttpHeader(body, config, echoLen);
                body = body[httpLen..];
            }
            WriteEcho(body[..echoLen], incoming.Bytes[..receivedHeaders], answer[..headersLen], ipLen, payload, config.EchoPad);
        }
        FinishTcpChecksum(answer, ipLen);

        if (second > 0 && !syn)
        {
            // The FIN+ACK follows the ACK in sequence space and repeats only the timestamp echo.
            var finAck = output.Slice(first, second);
            int tsLen = AlignedTsLength(in opts);
            Span<byte> finOptions = stackalloc byte[12];
            if (tsLen > 0)
                WriteTimestamp(finOptions, in opts, command, config);
            WriteHeaders(finAck, in incoming, config, unchecked(seq + (uint)payloadLen), ack, TcpFlags.Fin | TcpFlags.Ack, finOptions[..tsLen], 0);
            FinishTcpChecksum(finAck, ipLen);
            return new(ResponderVerdict.Answered, first, second, command);
        }
        return new(ResponderVerdict.Answered, first, 0, command);
    }

    private static int IpDeclaredLength(in PacketView p)
        => p.IsIpv6 ? 40 + p.Ipv6.PayloadLength : p.Ipv4.TotalLength;

    private static ReadOnlySpan<byte> HttpHeaders => "\r\nContent-Type: application/octet-stream\r\nContent-Length: "u8;

    private static int Digits(int n) => n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;

    private static void WriteHttpHeader(Span<byte> d, ResponderConfig config, int contentLength)
    {
        config.HttpStatusLineBytes.CopyTo(d);
        int at = config.HttpStatusLineBytes.Length;
        HttpHeaders.CopyTo(d[at..]);
        at += HttpHeaders.Length;
        Utf8Formatter.TryFormat(contentLength, d[at..], out int written);
        at += written;
        "\r\n\r\n"u8.CopyTo(d[at..]);
    }

    private static void WriteEcho(Span<byte> d, ReadOnlySpan<byte> receivedHeaders, ReadOnlySpan<byte> ownHeaders, int ipLen,
        ReadOnlySpan<byte> payload, byte pad)
    {
        int at = CopyCut(receivedHeaders, d, 0);
        int ownAt = at;
        at = CopyCut(ownHeaders, d, at);
        // The copy of our own header cannot carry the checksum of the packet that contains it.
        int ck = ownAt + ipLen + 16;
        for (int i = ck; i < ck + 2 && i < d.Length; i++)
            d[i] = 0;
        at = CopyCut(payload, d, at);
        d[at..].Fill(pad);
    }

    private static int CopyCut(ReadOnlySpan<byte> src, Span<byte> dst, int at)
    {
        int n = Math.Min(src.Length, dst.Length - at);
        src[..n].CopyTo(dst[at..]);
        return at + n;
    }

    private static void WriteHeaders(Span<byte> d, in PacketView incoming, ResponderConfig config,
        uint seq, uint ack, TcpFlags flags, ReadOnlySpan<byte> options, int payloadLen)
    {
        int ipLen;
        int tcpLen = TcpHeaderView.MinLength + options.Length;
        if (incoming.IsIpv6)
        {
            ipLen = 40;
            d[0] = 0x60; d[1] = 0; d[2] = 0; d[3] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)(tcpLen + payloadLen));
            d[6] = 6;
            d[7] = config.Ttl;
            incoming.Ipv6.Destination.CopyTo(d[8..]);
            incoming.Ipv6.Source.CopyTo(d[24..]);
        }
        else
        {
            ipLen = 20;
            d[0] = 0x45; d[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)(ipLen + tcpLen + payloadLen));
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], config.IpId);
            d[6] = 0; d[7] = 0;
            d[8] = config.Ttl;
            d[9] = 6;
            d[10] = 0; d[11] = 0;
            incoming.Ipv4.Destination.CopyTo(d[12..]);
            incoming.Ipv4.Source.CopyTo(d[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(d[10..], Checksum.Compute(d[..20]));
        }
        var t = d[ipLen..];
        var inTcp = incoming.Tcp;
        BinaryPrimitives.WriteUInt16BigEndian(t, inTcp.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], inTcp.SourcePort);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        BinaryPrimitives.WriteUInt16BigEndian(t[12..], (ushort)((tcpLen / 4) << 12 | (int)flags));
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], config.Window);
        t[16] = 0; t[17] = 0; t[18] = 0; t[19] = 0;
        options.CopyTo(t[20..]);
    }

    private static void FinishTcpChecksum(Span<byte> packet, int ipLen)
    {
        var segment = packet[ipLen..];
        uint pseudo = ipLen == 40
            ? Checksum.PseudoHeaderSumV6(packet.Slice(8, 16), packet.Slice(24, 16), 6, segment.Length)
            : Checksum.PseudoHeaderSumV4(packet.Slice(12, 4), packet.Slice(16, 4), 6, segment.Length);
        segment[16] = 0; segment[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Checksum.ComputeTransport(pseudo, segment));
    }

    private static int AlignedTsLength(in IncomingOptions o) => o.HasTimestamp ? 12 : 0;

    private static int WriteTimestamp(Span<byte> d, in IncomingOptions o, byte command, ResponderConfig config)
    {
        d[0] = 1; d[1] = 1; d[2] = TcpOptionKind.Timestamps; d[3] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], config.TsVal);
        uint ecr = command == ResponderCommands.EchoOldTimestamp ? unchecked(o.TsVal - 1) : o.TsVal;
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], ecr);
        return 12;
    }

    private static int WriteSynAckOptions(Span<byte> d, in IncomingOptions o, ResponderConfig config)
    {
        int at = 0;
        d[0] = TcpOptionKind.MaximumSegmentSize; d[1] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], config.Mss);
        at = 4;
        if (o.HasTimestamp)
            at += WriteTimestamp(d[at..], in o, 0, config);
        d[at] = 1; d[at + 1] = TcpOptionKind.WindowScale; d[at + 2] = 3; d[at + 3] = config.WindowScale;
        at += 4;
        if (config.SackPermitted)
        {
            d[at] = 1; d[at + 1] = 1; d[at + 2] = TcpOptionKind.SackPermitted; d[at + 3] = 2;
            at += 4;
        }
        at = WriteMptcp(d, at, in o, syn: true, config);
        return Pad(d, at);
    }

    private static int WriteAckOptions(Span<byte> d, in IncomingOptions o, byte command, ResponderConfig config)
    {
        int at = 0;
        if (o.HasTimestamp)
            at += WriteTimestamp(d, in o, command, config);
        at = WriteMptcp(d, at, in o, syn: false, config);
        return Pad(d, at);
    }

    private static int WriteMptcp(Span<byte> d, int at, in IncomingOptions o, bool syn, ResponderConfig config)
    {
        if (o.HasLegacyMpCapable)
        {
            Span<byte> opt = stackalloc byte[14];
            opt[0] = TcpOptionKind.Mptcp; opt[1] = 14;
            BinaryPrimitives.WriteUInt32BigEndian(opt[2..], config.LegacyMpToken);
            BinaryPrimitives.WriteUInt64BigEndian(opt[6..], config.LegacyMpIdsn);
            at = Aligned(d, at, opt);
        }
        if (o.HasLegacyMpData)
        {
            Span<byte> opt = stackalloc byte[6];
            opt[0] = TcpOptionKind.LegacyMpAck; opt[1] = 6;
            BinaryPrimitives.WriteUInt32BigEndian(opt[2..], unchecked(o.LegacyDsn + o.LegacyDataLength));
            at = Aligned(d, at, opt);
        }
        if (o.RfcMpCapable.Length > 0)
        {
            if (syn)
            {
                Span<byte> opt = stackalloc byte[12];
                opt[0] = TcpOptionKind.Mptcp; opt[1] = 12;
                opt[2] = (byte)(o.RfcMpCapable[2] & 0x0F);
                opt[3] = config.MptcpFlags;
                BinaryPrimitives.WriteUInt64BigEndian(opt[4..], config.MptcpKey);
                at = Aligned(d, at, opt);
            }
            else
            {
                at = Aligned(d, at, o.RfcMpCapable);
            }
        }
        if (o.HasDssMapping)
        {
            Span<byte> opt = stackalloc byte[12];
            opt[0] = TcpOptionKind.Mptcp;
            opt[2] = 0x20;
            ulong dataAck = unchecked(o.DssDsn + o.DssDataLength + (o.DssDataFin ? 1UL : 0UL));
            if (o.DssLongDsn)
            {
                opt[1] = 12; opt[3] = 0x03;
                BinaryPrimitives.WriteUInt64BigEndian(opt[4..], dataAck);
                at = Aligned(d, at, opt);
            }
            else
            {
                opt[1] = 8; opt[3] = 0x01;
                BinaryPrimitives.WriteUInt32BigEndian(opt[4..], (uint)dataAck);
                at = Aligned(d, at, opt[..8]);
            }
        }
        return at;
    }

    /// <summary>Appends <paramref name="option"/> after NOPs that end it on a 4-byte boundary; leaves it out if it does not fit.</summary>
    private static int Aligned(Span<byte> d, int at, ReadOnlySpan<byte> option)
    {
        int nops = (4 - option.Length % 4) % 4;
        if (at + nops + option.Length > d.Length)
            return at;
        d.Slice(at, nops).Fill(TcpOptionKind.NoOperation);
        option.CopyTo(d[(at + nops)..]);
        return at + nops + option.Length;
    }

    private static int Pad(Span<byte> d, int at)
    {
        int end = (at + 3) & ~3;
        d[at..end].Clear();
        return end;
    }
}
