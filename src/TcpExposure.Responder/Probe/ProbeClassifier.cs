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
    public const uint LegacyMpToken = 0x0D0C0B0A;
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
    /// and intact, 5 present with other values, 4 absent but its room is still in the header
    /// (overwritten), 3 absent and the header shorter (removed).
    /// </summary>
    public static ProbeOutcome SynOpt(IReadOnlyList<TcpSegment> answers, int headerLengthWithOption)
    {
        var sa = answers.FirstOrDefault(IsSynAck);
        if (sa is null)
            return answers.Any(IsRst) ? new(2, "RST to the SYN") : new(1, "no SYN-ACK");
        var opt = sa.Options.FirstOrDefault(o => o.Kind == TcpOptionKind.Mptcp);
        if (opt is LegacyMpCapableOption m)
            return m.Token == LegacyMpToken && m.Idsn == LegacyMpIdsn
                ? new(0, "MP_CAPABLE echoed intact")
                : new(5, $"MP_CAPABLE echoed as token 0x{m.Token:x8} idsn 0x{m.Idsn:x16}");
        if (opt is not null)
            return new(5, $"kind 30 came back as {opt}");
        return sa.TcpHeaderLength >= headerLengthWithOption
            ? new(4, $"no MP_CAPABLE, header still {sa.TcpHeaderLength} bytes (overwritten)")
            : new(3, $"no MP_CAPABLE echo, SYN-ACK header {sa.TcpHeaderLength} bytes");
    }

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
    /// responder (read from the echoed headers): 0 kept, 3 removed, 4 zeroed, 5 modified.
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
            return rx.TcpHeaderLength >= sent.TcpHeaderLength
                ? new(4, $"kind {kind} gone, header still {rx.TcpHeaderLength} bytes (overwritten)")
                : new(3, $"kind {kind} gone, header {rx.TcpHeaderLength} of {sent.TcpHeaderLength} bytes");
        return Encoded(theirs).AsSpan().SequenceEqual(Encoded(mine))
            ? new(0, $"kind {kind} arrived intact")
            : new(5, $"kind {kind} arrived as {Convert.ToHexString(Encoded(theirs))}, sent {Convert.ToHexString(Encoded(mine))}");
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
    /// on every, some or no part (without an option: 1 split).
    /// </summary>
    public static ProbeOutcome Split(IReadOnlyList<TcpSegment> answers, TcpSegment sent, byte? kind)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return Data(answers, sent) is { Code: not 0 } d ? d : new(7, "no echo");
        if (echoes.Count == 1 && echoes[0].Echo.ReceivedPayloadLength == sent.Payload.Length)
            return new(0, $"one segment of {sent.Payload.Length} bytes arrived");
        string parts = string.Join("+", echoes.Select(e => e.Echo.ReceivedPayloadLength));
        if (kind is not { } k)
            return new(1, $"arrived as {parts} bytes");
        int with = echoes.Count(e => e.Echo.Received.Options.Any(o => o.Kind == k));
        int code = with == echoes.Count ? 1 : with == 0 ? 3 : 2;
        return new(code, $"arrived as {parts} bytes, option on {with} of {echoes.Count}");
    }

    /// <summary>
    /// Coalesce: each of our segments starts with 0xa1, so each segment the responder received
    /// is echoed. 0 as many arrived as sent; 1 fewer, longer ones. With an option kind: 1/2/3 =
    /// the option on all/some/none of the arrived segments.
    /// </summary>
    public static ProbeOutcome Coalesce(IReadOnlyList<TcpSegment> answers, IReadOnlyList<TcpSegment> sent, byte? kind)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return answers.Any(IsRst) ? new(2, "RST") : new(7, "no echo");
        int sentBytes = sent.Sum(s => s.Payload.Length);
        int largest = echoes.Max(e => e.Echo.ReceivedPayloadLength);
        string parts = string.Join("+", echoes.Select(e => e.Echo.ReceivedPayloadLength));
        if (largest <= sent.Max(s => s.Payload.Length))
            return new(0, $"{echoes.Count} segment(s) of {parts} bytes arrived for {sent.Count} sent");
        if (kind is not { } k)
            return new(1, $"arrived as {parts} bytes for {sent.Count}x{sentBytes / sent.Count}");
        var big = echoes.Where(e => e.Echo.ReceivedPayloadLength > sent.Max(s => s.Payload.Length)).ToList();
        int with = big.Count(e => e.Echo.Received.Options.Any(o => o.Kind == k));
        int code = with == big.Count ? 1 : with == 0 ? 3 : 2;
        return new(code, $"arrived as {parts} bytes, option on {with} of {big.Count} coalesced");
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

    /// <summary>SeqHole / AckHole: 0 the field arrived as sent, 2 it was corrected, 1 no answer, 3 RST.</summary>
    public static ProbeOutcome Hole(IReadOnlyList<TcpSegment> answers, TcpSegment sent, bool ackField)
    {
        var echoes = Echoes(answers);
        if (echoes.Count == 0)
            return answers.Any(IsRst) ? new(3, "RST") : new(1, answers.Count == 0 ? "nothing came back" : "no echo");
        var rx = echoes[0].Echo.Received;
        uint mine = ackField ? sent.Acknowledgment.Value : sent.Sequence.Value;
        uint theirs = ackField ? rx.Acknowledgment.Value : rx.Sequence.Value;
        string field = ackField ? "ack" : "seq";
        return mine == theirs ? new(0, $"{field} {mine} arrived") : new(2, $"sent {field} {mine}, arrived {theirs}");
    }
}
