namespace TcpExposure.Responder.Probe;

/// <summary>The names of the probe tests (as the legacy tcpexposure.py printed them) and what their codes mean.</summary>
public static class ProbeTests
{
    public const string Syn = "Syn", UnexpAwnd = "UnexpAwnd", SynOpt = "SynOpt", SynOpt2 = "SynOpt2";
    public const string Data = "Data", DataKnownOpt = "DataKnownOpt", DataOpt = "DataOpt";
    public const string IndAck = "IndAck", ChangeSeq = "ChangeSeq", ChangeAwnd = "ChangeAwnd", ChangeIncomingSeq = "ChangeIncomingSeq", Split = "Split";
    public const string Coalesce = "Coalesce", CoalesceKnownOpt = "CoalesceKnownOpt", CoalesceOpt = "CoalesceOpt";
    public const string CoalesceFq = "CoalesceFq", CoalesceKnownOptFq = "CoalesceKnownOptFq", CoalesceOptFq = "CoalesceOptFq";
    public const string PseudoRtx = "PseudoRtx", PseudoRtxL = "PseudoRtxL", PseudoRtxS = "PseudoRtxS";
    public const string SeqHole = "SeqHole", AckHole = "AckHole";

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
