using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Probe;

/// <summary>A test's result: its code and the facts it was read from.</summary>
public readonly record struct ProbeOutcome(int Code, string Evidence);

/// <summary>
/// Turns the answers of one exchange into result codes. Pure: segments in, outcome out, so every
/// code can be checked with synthetic answers.
/// </summary>
public static class ProbeClassifier
{
    /// <summary>What the responder sends by default (the legacy values the tests compare with).</summary>
    public const ushort ResponderWindow = 32768;
    /// <summary>The token of the fixed legacy MP_CAPABLE the responder answers with.</summary>
    public const uint LegacyMpToken = 0x0D0C0B0A;
    /// <summary>The IDSN of the fixed legacy MP_CAPABLE the responder answers with.</summary>
    public const ulong LegacyMpIdsn = 0x0102030405060000;

    private static bool IsRst(TcpSegment s) => (s.Flags & TcpFlags.Rst) != 0;
    private static bool IsSynAck(TcpSegment s) => (s.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);

    /// <summary>Syn: 0 SYN-ACK, 1 nothing, 2 RST.</summary>
    public static ProbeOutcome Syn(IReadOnlyList<TcpSegment> answers)
    {
        if (answers.FirstOrDefault(IsSynAck) is { } sa)
            return new(0, $"SYN-ACK seq {sa.Sequence.Value} ack {sa.Acknowledgment.Value} win {sa.Window}");
        if (answers.Any(IsRst))
            return new(2, "RST to the SYN");
        return new(1, answers.Count == 0 ? "nothing came back" : $"{answers.Count} answer(s), none a SYN-ACK");
    }

    /// <summary>UnexpAwnd: 1 when the SYN-ACK's window is not the responder's.</summary>
    public static ProbeOutcome UnexpAwnd(TcpSegment synAck, ushort expected = ResponderWindow)
        => synAck.Window == expected ? new(0, $"window {synAck.Window}") : new(1, $"window {synAck.Window}, the responder sends {expected}");

    /// <summary>
    /// SynOpt / SynOpt2: the responder echoes a fixed legacy MP_CAPABLE on the SYN-ACK. 0 present
    /// and intact, 4 present with its token or IDSN zero (zeroed), 5 present with other values,
    /// 3 absent. As in the legacy tool, an option that is gone counts as removed whether the
    /// header shrank or the option was overwritten with NOPs (iptables TCPOPTSTRIP does the latter).
    /// </summary>
    public static ProbeOutcome SynOpt(IReadOnlyList<TcpSegment> answers)
    {
        var sa = answers.FirstOrDefault(IsSynAck);
        if (sa is null)
            return answers.Any(IsRst) ? new(2, "RST to the SYN") : new(1, "no SYN-ACK");
        var opt = sa.Options.FirstOrDefault(o => o.Kind == TcpOptionKind.Mptcp);
        if (opt is LegacyMpCapableOption m)
        {
            if (m.Token == LegacyMpToken && m.Idsn == LegacyMpIdsn)
                return new(0, "MP_CAPABLE echoed intact");
            string values = $"token 0x{m.Token:x8} idsn 0x{m.Idsn:x16}";
            return m.Token == 0 || m.Idsn == 0
                ? new(4, $"MP_CAPABLE echoed zeroed: {values}")
                : new(5, $"MP_CAPABLE echoed as {values}");
        }
        if (opt is not null)
            return IsZeroed(opt) ? new(4, $"kind 30 came back zeroed: {Hex(opt)}") : new(5, $"kind 30 came back as {Hex(opt)}");
        int nops = sa.Options.Count(o => o.Kind == TcpOptionKind.NoOperation);
        return new(3, $"no MP_CAPABLE echo, SYN-ACK header {sa.TcpHeaderLength} bytes{(nops > 2 ? $" with {nops} NOPs (overwritten)" : "")}");
    }

    /// <summary>
    /// Whether a middlebox zeroed <paramref name="option"/>: its data is all zero, or the field
    /// the legacy tool checked is (MP_CAPABLE token or IDSN, MP_DATA DSN, timestamp value).
    /// </summary>
    public static bool IsZeroed(TcpOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        switch (option)
        {
            case LegacyMpCapableOption m: return m.Token == 0 || m.Idsn == 0;
            case LegacyMpDataOption d: return d.Dsn == 0;
            case TimestampsOption t: return t.Value == 0;
        }
        Span<byte> b = stackalloc byte[Math.Max(2, option.Length)];
        option.Write(b);
        return option.Length > 2 && !b[2..option.Length].ContainsAnyExcept((byte)0);
    }

    private static string Hex(TcpOption o) => Convert.ToHexString(Encoded(o));

    /// <summary>The echoes in arrival order, each with the answer that carried it.</summary>
    public static List<(TcpSegment Answer, EchoView Echo)> Echoes(IReadOnlyList<TcpSegment> answers)
    {
        var list = new List<(TcpSegment, EchoView)>();
        foreach (var a in answers)
            if (a.Payload.Length > 0 && EchoView.TryParse(a.Payload, out var e))
                list.Add((a, e!));
        return list;
    }

    /// <summary>
    /// Data: 0 the 0xa1 segment was echoed, 1 no answer, 2 RST, 6 acknowledged without echo.
    /// </summary>
    public static ProbeOutcome Data(IReadOnlyList<TcpSegment> answers, TcpSegment sent)
    {
        var echoes = Echoes(answers);
        if (echoes.Count > 0)
        {
            int got = echoes.Sum(e => e.Echo.ReceivedPayloadLength);
            return new(0, $"{echoes.Count} echo(es) of {got}/{sent.Payload.Length} bytes");
        }
        if (answers.Any(IsRst)) return new(2, "RST to the data");
        if (answers.Count > 0) return new(6, $"{answers.Count} answer(s) without an echo");
        return new(1, "nothing came back");
    }

    /// <summary>
    /// DataKnownOpt / DataOpt: whether the option of <paramref name="kind"/> arrived at the
    /// responder (read from the echoed headers): 0 kept, 3 removed (gone, or overwritten with
    /// NOPs), 4 zeroed, 5 modified.
    /// </summary>
    public static ProbeOutcome DataOption(IReadOnlyList<TcpSegment> answers, TcpSegment sent, byte kind)
    {
        var data = Data(answers, sent);
        if (data.Code != 0)
            return data;
        var rx = Echoes(answers)[0].Echo.Received;
        var mine = sent.Options.First(o => o.Kind == kind);
        var theirs = rx.Options.FirstOrDefault(o => o.Kind == kind);
        if (theirs is null)
            return new(3, $"kind {kind} gone, header {rx.TcpHeaderLength} of {sent.TcpHeaderLength} bytes");
        if (Encoded(theirs).AsSpan().SequenceEqual(Encoded(mine)))
            return new(0, $"kind {kind} arrived intact");
        return IsZeroed(theirs)
            ? new(4, $"kind {kind} arrived zeroed: {Hex(theirs)}, sent {Hex(mine)}")
            : new(5, $"kind {kind} arrived as {Hex(theirs)}, sent {Hex(mine)}");
    }

    private static byte[] Encoded(TcpOption o)
    {
        var b = new byte[o.Length];
        o.Write(b);
        return b;
    }

    /// <summary>IndAck: 1 when an ACK without payload arrived before the first echo.</summary>
    public static ProbeOutcome IndAck(IReadOnlyList<TcpSegment> answers)
    {
        foreach (var a in answers)
        {
            if (a.Payload.Length > 0 && EchoView.TryParse(a.Payload, out _))
                return new(0, "the echo came first");
            if ((a.Flags & TcpFlags.Ack) != 0 && a.Payload.Length == 0 && !IsRst(a))
                return new(1, $"payload-less ACK {a.Acknowledgment.Value} before the echo");
        }
        return new(0, "no ACK without payload");
    }

    /// <summary>ChangeSeq: 1 when the responder received another sequence number than we sent.</summary>
    public static ProbeOutcome ChangeSeq(EchoView echo, TcpSegment sent)
        => echo.Received.Sequence == sent.Sequence
            ? new(0, $"seq {sent.Sequence.Value} arrived")
            : new(1, $"sent seq {sent.Sequence.Value}, arrived {echo.Received.Sequence.Value} (offset {echo.Received.Sequence - sent.Sequence})");

    /// <summary>ChangeAwnd: 1 when the responder received another window than we sent.</summary>
    public static ProbeOutcome ChangeAwnd(EchoView echo, TcpSegment sent)
        => echo.Received.Window == sent.Window ? new(0, $"window {sent.Window} arrived") : new(1, $"sent window {sent.Window}, arrived {echo.Received.Window}");

    /// <summary>ChangeIncomingSeq: 1 when the answer's sequence number as we got it is not what the responder wrote.</summary>
    public static ProbeOutcome ChangeIncomingSeq(EchoView echo, TcpSegment answer)
        => echo.Sent.Sequence == answer.Sequence
            ? new(0, $"seq {answer.Sequence.Value} as sent")
            : new(1, $"responder sent seq {echo.Sent.Sequence.Value}, arrived {answer.Sequence.Value}");

    /// <summary>
    /// Split: 0 the segment arrived whole; else 1, 2 or 3 for the option of <paramref name="kind"/>
    /// on every, some or no piece (without an option: 1 split). Only the first piece starts with
    /// the 0xa1 command, so only it is echoed; the pieces are counted from the responder's ACKs
    /// (one per piece, each ending at the piece's end), and a piece without an echo shows its
    /// option by the answer the responder gives to it (MP_ACK for MP_DATA, a timestamp for one).
    /// </summary>
    public static ProbeOutcome Split(IReadOnlyList<TcpSegment> answers, TcpSegment sent, byte? kind)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return Data(answers, sent) is { Code: not 0 } d ? d : new(7, "no echo");
        if (echoes.Count == 1 && echoes[0].Echo.ReceivedPayloadLength == sent.Payload.Length)
            return new(0, $"one segment of {sent.Payload.Length} bytes arrived");
        var pieces = Pieces(answers, sent);
        int echoed = echoes.Sum(e => e.Echo.ReceivedPayloadLength);
        int count = Math.Max(pieces.Count, echoed < sent.Payload.Length ? Math.Max(2, echoes.Count) : echoes.Count);
        string parts = $"{count} pieces ({string.Join("+", echoes.Select(e => e.Echo.ReceivedPayloadLength))} bytes echoed, ACKs to +{string.Join(",+", pieces.Select(p => p.Acknowledgment - sent.Sequence))})";
        if (kind is not { } k)
            return new(1, $"arrived as {parts}");
        // Each piece: from its echo when it has one, else from the answer to it.
        int with = 0, seen = 0;
        foreach (var p in pieces)
        {
            var echo = echoes.FirstOrDefault(e => e.Answer.Acknowledgment == p.Acknowledgment);
            bool has = echo.Echo is { } ev ? ev.Received.Options.Any(o => o.Kind == k) : AnswersOption(p, k);
            seen++;
            if (has) with++;
        }
        if (seen == 0)
        {
            seen = echoes.Count;
            with = echoes.Count(e => e.Echo.Received.Options.Any(o => o.Kind == k));
        }
        int code = with == 0 ? 3 : with >= count ? 1 : 2;
        return new(code, $"arrived as {parts}, option on {with} of {count}");
    }

    /// <summary>
    /// The responder's ACKs to the pieces of <paramref name="sent"/>: one answer per distinct
    /// acknowledgment number inside the segment's range, in order. The answers' numbers are as the
    /// client sees them, so a consistent sequence rewriter has already been undone.
    /// </summary>
    private static List<TcpSegment> Pieces(IReadOnlyList<TcpSegment> answers, TcpSegment sent)
    {
        var list = new List<TcpSegment>();
        foreach (var a in answers)
        {
            if ((a.Flags & (TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Fin)) != 0 || (a.Flags & TcpFlags.Ack) == 0)
                continue;
            int at = a.Acknowledgment - sent.Sequence;
            if (at <= 0 || at > sent.Payload.Length || list.Any(p => p.Acknowledgment == a.Acknowledgment))
                continue;
            list.Add(a);
        }
        list.Sort((x, y) => (x.Acknowledgment - y.Acknowledgment).CompareTo(0));
        return list;
    }

    /// <summary>Whether the responder's answer shows that the segment it answers carried an option of <paramref name="kind"/>.</summary>
    private static bool AnswersOption(TcpSegment answer, byte kind) => kind switch
    {
        TcpOptionKind.LegacyMpData => answer.Options.Any(o => o.Kind == TcpOptionKind.LegacyMpAck),
        _ => answer.Options.Any(o => o.Kind == kind),
    };

    /// <summary>
    /// Coalesce: each of our segments starts with 0xa1, so each segment the responder received
    /// is echoed. 0 as many arrived as sent; 1 fewer, longer ones. With an option kind: 1/2/3 =
    /// every segment merged into a longer one kept its option / some did / none did. A coalesced
    /// segment keeps one header, so it "kept all" only if it carries one option per merged segment.
    /// </summary>
    public static ProbeOutcome Coalesce(IReadOnlyList<TcpSegment> answers, IReadOnlyList<TcpSegment> sent, byte? kind)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return answers.Any(IsRst) ? new(2, "RST") : new(7, "no echo");
        int sentBytes = sent.Sum(s => s.Payload.Length);
        int largestSent = sent.Max(s => s.Payload.Length);
        int largest = echoes.Max(e => e.Echo.ReceivedPayloadLength);
        string parts = string.Join("+", echoes.Select(e => e.Echo.ReceivedPayloadLength));
        if (largest <= largestSent)
            return new(0, $"{echoes.Count} segment(s) of {parts} bytes arrived for {sent.Count} sent");
        if (kind is not { } k)
            return new(1, $"arrived as {parts} bytes for {sent.Count}x{sentBytes / sent.Count}");
        int merged = 0, kept = 0;
        foreach (var (_, e) in echoes)
        {
            if (e.ReceivedPayloadLength <= largestSent)
                continue;
            // Our segments are all the same size: how many went into this one.
            int n = (e.ReceivedPayloadLength + largestSent - 1) / largestSent;
            merged += n;
            kept += Math.Min(n, e.Received.Options.Count(o => o.Kind == k));
        }
        int code = kept == 0 ? 3 : kept >= merged ? 1 : 2;
        return new(code, $"arrived as {parts} bytes, {kept} kind-{k} option(s) for the {merged} segments coalesced");
    }

    /// <summary>
    /// PseudoRtx: the answers to the "retransmission" of a segment the responder did not
    /// acknowledge (0xb2). 0 its new payload was delivered as sent, 3 the old payload was
    /// delivered instead, 4 it arrived resized, 2 ACK advanced past it without an echo,
    /// 5 RST, 1 nothing.
    /// </summary>
    public static ProbeOutcome PseudoRtx(IReadOnlyList<TcpSegment> answers, TcpSegment original, TcpSegment retransmission)
    {
        var echoes = Echoes(answers);
        var mine = echoes.Where(e => e.Echo.Received.Sequence == retransmission.Sequence || e.Echo.Data.Length > 0).ToList();
        if (mine.Count > 0)
        {
            var e = mine[^1].Echo;
            int n = Math.Min(e.ReceivedPayloadLength, e.Data.Length);
            var got = e.Data.Span[..n];
            if (e.ReceivedPayloadLength != retransmission.Payload.Length)
                return new(4, $"sent {retransmission.Payload.Length} bytes, {e.ReceivedPayloadLength} arrived");
            if (got.SequenceEqual(retransmission.Payload.Span))
                return new(0, $"{n} new bytes delivered");
            if (original.Payload.Length >= n && got.SequenceEqual(original.Payload.Span[..n]))
                return new(3, "the first transmission's bytes were delivered");
            return new(4, "payload differs from both transmissions");
        }
        if (answers.Any(IsRst)) return new(5, "RST");
        var end = retransmission.Sequence + retransmission.Payload.Length;
        if (answers.Any(a => (a.Flags & TcpFlags.Ack) != 0 && a.Acknowledgment - end >= 0))
            return new(2, $"ACK to {end.Value} without an echo");
        return new(1, answers.Count == 0 ? "nothing came back" : $"{answers.Count} answer(s), none acknowledging");
    }

    /// <summary>
    /// SeqHole / AckHole: 0 the field arrived as sent, 2 it was corrected, 1 no answer, 3 RST.
    /// "As sent" allows for <paramref name="offset"/>, the shift the path applies to that field on
    /// every segment (measured by the Data test from its echo): a sequence-randomising firewall
    /// moves the hole's number with all the others and so passes the hole untouched.
    /// </summary>
    public static ProbeOutcome Hole(IReadOnlyList<TcpSegment> answers, TcpSegment sent, bool ackField, int offset = 0)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return answers.Any(IsRst) ? new(3, "RST") : new(1, answers.Count == 0 ? "nothing came back" : "no echo");
        var rx = echoes[0].Echo.Received;
        uint mine = ackField ? sent.Acknowledgment.Value : sent.Sequence.Value;
        uint theirs = ackField ? rx.Acknowledgment.Value : rx.Sequence.Value;
        uint expected = unchecked(mine + (uint)offset);
        string field = ackField ? "ack" : "seq";
        string shift = offset == 0 ? "" : $" (the path shifts every {field} by {offset:+#;-#}; undone)";
        return expected == theirs
            ? new(0, $"{field} {mine} arrived as {theirs}{shift}")
            : new(2, $"sent {field} {mine}, arrived {theirs}, expected {expected}{shift}");
    }
}
