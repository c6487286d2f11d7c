namespace TcpExposure.Responder.Probe;

/// <summary>The names of the probe tests (as the legacy tcpexposure.py printed them) and what their codes mean.</summary>
public static class ProbeTests
{
    /// <summary>SYN to the responder: 0 SYN-ACK, 1 no answer, 2 RST. The run stops here unless 0.</summary>
    public const string Syn = "Syn";
    /// <summary>Read from <see cref="Syn"/>: 1 when the SYN-ACK window is not the responder's 32768 (a SYN proxy hint).</summary>
    public const string UnexpAwnd = "UnexpAwnd";
    /// <summary>SYN carrying MP_CAPABLE: 0 kept, 3 removed, 4 zeroed, 5 modified on the way.</summary>
    public const string SynOpt = "SynOpt";
    /// <summary>As <see cref="SynOpt"/>, with every option NOP-padded to a 4-byte boundary.</summary>
    public const string SynOpt2 = "SynOpt2";
    /// <summary>One full-size segment the responder echoes headers for (command 0xa1): 0 echoed, 6 acknowledged without echo. The run stops here unless 0.</summary>
    public const string Data = "Data";
    /// <summary>As <see cref="Data"/> with the timestamps option: whether a known option survives on data.</summary>
    public const string DataKnownOpt = "DataKnownOpt";
    /// <summary>As <see cref="Data"/> with the legacy MP_DATA option: whether an unknown option survives on data.</summary>
    public const string DataOpt = "DataOpt";
    /// <summary>Read from <see cref="Data"/>: 1 when a payload-less ACK came before the echo (a proxy or indirect ACK).</summary>
    public const string IndAck = "IndAck";
    /// <summary>Read from <see cref="Data"/>: 1 when the sequence number reached the server rewritten.</summary>
    public const string ChangeSeq = "ChangeSeq";
    /// <summary>Read from <see cref="Data"/>: 1 when the receive window reached the server rewritten.</summary>
    public const string ChangeAwnd = "ChangeAwnd";
    /// <summary>Read from <see cref="Data"/>: 1 when the responder's sequence number reached the client rewritten.</summary>
    public const string ChangeIncomingSeq = "ChangeIncomingSeq";
    /// <summary>Read from <see cref="DataOpt"/>: 0 not split; split with the option on every (1), some (2) or no (3) part.</summary>
    public const string Split = "Split";
    /// <summary>Three small segments: 1 when they arrive coalesced into fewer.</summary>
    public const string Coalesce = "Coalesce";
    /// <summary>As <see cref="Coalesce"/> with timestamps: coalesced with options kept on all (1), some (2) or none (3).</summary>
    public const string CoalesceKnownOpt = "CoalesceKnownOpt";
    /// <summary>As <see cref="Coalesce"/> with MP_DATA: coalesced with options kept on all (1), some (2) or none (3).</summary>
    public const string CoalesceOpt = "CoalesceOpt";
    /// <summary>As <see cref="Coalesce"/>, the first segment sent last (out of order).</summary>
    public const string CoalesceFq = "CoalesceFq";
    /// <summary>As <see cref="CoalesceKnownOpt"/>, the first segment sent last (out of order).</summary>
    public const string CoalesceKnownOptFq = "CoalesceKnownOptFq";
    /// <summary>As <see cref="CoalesceOpt"/>, the first segment sent last (out of order).</summary>
    public const string CoalesceOptFq = "CoalesceOptFq";
    /// <summary>The second segment is left unacknowledged (command 0xb2), then "retransmitted" with different bytes: 0 new data delivered, 2 ACK advanced without delivery, 3 old data delivered, 4 resized, 5 RST.</summary>
    public const string PseudoRtx = "PseudoRtx";
    /// <summary>As <see cref="PseudoRtx"/>, the retransmission 16 bytes longer.</summary>
    public const string PseudoRtxL = "PseudoRtxL";
    /// <summary>As <see cref="PseudoRtx"/>, the retransmission 16 bytes shorter.</summary>
    public const string PseudoRtxS = "PseudoRtxS";
    /// <summary>The sequence number jumps one segment ahead: 0 passed untouched, 1 no answer, 2 corrected, 3 RST.</summary>
    public const string SeqHole = "SeqHole";
    /// <summary>The acknowledgment number jumps one segment ahead: 0 passed untouched, 1 no answer, 2 corrected, 3 RST.</summary>
    public const string AckHole = "AckHole";

    /// <summary>Every test, in the order the suite runs them. The derived ones come with the test they are read from.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        Syn, UnexpAwnd, SynOpt, SynOpt2, Data, IndAck, ChangeSeq, ChangeAwnd, ChangeIncomingSeq, DataKnownOpt, DataOpt, Split,
        Coalesce, CoalesceKnownOpt, CoalesceOpt, CoalesceFq, CoalesceKnownOptFq, CoalesceOptFq,
        PseudoRtx, PseudoRtxL, PseudoRtxS, SeqHole, AckHole,
    ];

    /// <summary>Tests read from another test's exchange, and which.</summary>
    public static string? DerivedFrom(string test) => test switch
    {
        UnexpAwnd => Syn,
        IndAck or ChangeSeq or ChangeAwnd or ChangeIncomingSeq => Data,
        Split => DataOpt,
        _ => null,
    };

    /// <summary>The code a clean path gives.</summary>
    public const int Unchanged = 0;

    /// <summary>
    /// The code <paramref name="test"/> reports when nothing usable came back: 1 where the legacy
    /// tool used 1 for it, 7 for the tests whose 1 means something else (coalesced, split) and
    /// for the derived tests.
    /// </summary>
    public static int NoAnswer(string test) => test switch
    {
        Syn or SynOpt or SynOpt2 or Data or DataKnownOpt or DataOpt or PseudoRtx or PseudoRtxL or PseudoRtxS or SeqHole or AckHole => 1,
        _ => 7,
    };

    /// <summary>Whether <paramref name="code"/> says <paramref name="test"/> got no answer (see <see cref="NoAnswer"/>).</summary>
    public static bool IsNoAnswer(string test, int code) => code == NoAnswer(test) || code == 7;

    /// <summary>What <paramref name="code"/> means for <paramref name="test"/>.</summary>
    public static string Meaning(string test, int code) => (test, code) switch
    {
        (_, -1) => "not run",
        (Syn, 0) => "SYN-ACK",
        (Syn, 1) => "no answer",
        (Syn, 2) => "RST",
        (UnexpAwnd, 0) => "SYN-ACK window as sent",
        (UnexpAwnd, 1) => "SYN-ACK window changed (SYN proxy?)",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt, 0) => "option kept",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt, 3) => "option removed",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt, 4) => "option zeroed",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt, 5) => "option modified",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt or Data, 1) => "no answer",
        (SynOpt or SynOpt2 or DataKnownOpt or DataOpt or Data, 2) => "RST",
        (Data, 0) => "data echoed",
        (Data or DataKnownOpt or DataOpt, 6) => "acknowledged, no echo",
        (IndAck, 0) => "no ACK before the echo",
        (IndAck, 1) => "payload-less ACK first (proxy or indirect ACK)",
        (ChangeSeq or ChangeAwnd or ChangeIncomingSeq, 0) => "unchanged",
        (ChangeSeq, 1) => "sequence number rewritten toward the server",
        (ChangeAwnd, 1) => "window rewritten",
        (ChangeIncomingSeq, 1) => "sequence number rewritten toward the client",
        (Split, 0) => "not split",
        (Split, 1) => "split, option on every part",
        (Split, 2) => "split, option on some parts",
        (Split, 3) => "split, option on no part",
        (Coalesce or CoalesceFq, 0) or (CoalesceKnownOpt or CoalesceOpt or CoalesceKnownOptFq or CoalesceOptFq, 0) => "not coalesced",
        (Coalesce or CoalesceFq, 1) => "coalesced",
        (CoalesceKnownOpt or CoalesceOpt or CoalesceKnownOptFq or CoalesceOptFq, 1) => "coalesced, options kept on all",
        (CoalesceKnownOpt or CoalesceOpt or CoalesceKnownOptFq or CoalesceOptFq, 2) => "coalesced, options kept on some",
        (CoalesceKnownOpt or CoalesceOpt or CoalesceKnownOptFq or CoalesceOptFq, 3) => "coalesced, options kept on none",
        (_, 7) => "no answer",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 0) => "new data delivered",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 1) => "no answer",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 2) => "ACK advanced without delivery",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 3) => "old data delivered",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 4) => "resized",
        (PseudoRtx or PseudoRtxL or PseudoRtxS, 5) => "RST",
        (SeqHole or AckHole, 0) => "passed untouched",
        (SeqHole or AckHole, 1) => "no answer",
        (SeqHole or AckHole, 2) => "corrected",
        (SeqHole or AckHole, 3) => "RST",
        _ => "unknown code",
    };
}
