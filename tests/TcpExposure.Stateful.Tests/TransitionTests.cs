using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>Open, reset and timeout transitions of RFC 9293 3.10, each with the exact segments emitted.</summary>
public class TransitionTests
{
    private static TcpConfig Full => Plain with
    {
        Mss = 1460,
        ReceiveBufferSize = 256 * 1024,
        WindowScaling = true,
        Timestamps = true,
        Sack = true,
        TimestampOffset = 1000,
    };

    [Test]
    public void ActiveOpen_NegotiatesMssWindowScaleTimestampsSack()
    {
        var h = new ConnectionHarness(Full);
        h.Conn.Connect(h.Now);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynSent));
        Assert.That(h.Out(), Is.EqualTo(new[] { "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 3>" }));

        h.At(0.05);
        h.In("S", 0, ack: 1, win: 65535, options: Opts(mss: 1400, wscale: 7, sackOk: true, ts: (500, 1000)));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1 win 32768 <TS val 1050 ecr 500>" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.PeerMss, Is.EqualTo(1400));
        Assert.That((h.Conn.SendShift, h.Conn.ReceiveShift), Is.EqualTo((7, 3)));
        Assert.That(h.Conn.TimestampsEnabled && h.Conn.SackEnabled, Is.True);
        Assert.That(h.Conn.SmoothedRtt, Is.EqualTo(TimeSpan.FromMilliseconds(50)), "RTTM from the echoed timestamp");
        Assert.That(h.Conn.SendWindow, Is.EqualTo(65535), "the window in a SYN is never scaled");

        h.At(0.06);
        h.In(".", 1, ack: 1, win: 100, options: Opts(ts: (600, 1050)));
        Assert.That(h.Conn.SendWindow, Is.EqualTo(100 << 7));
        h.Conn.Send(new byte[3000], h.Now);
        // MSS 1400 minus 12 bytes of timestamp option: 1388-byte payloads.
        Assert.That(h.Out(), Is.EqualTo(new[]
        {
            ". 1:1389(1388) ack 1 win 32768 <TS val 1060 ecr 600>",
            ". 1389:2777(1388) ack 1 win 32768 <TS val 1060 ecr 600>",
            "P. 2777:3001(224) ack 1 win 32768 <TS val 1060 ecr 600>",
        }));
    }

    [Test]
    public void PassiveOpen_AnswersOnlyOptionsThePeerOffered()
    {
        var h = new ConnectionHarness(Full);
        h.Conn.Listen();
        h.In("S", 0, win: 29200, options: Opts(mss: 1460, ts: (77, 0)));
        Assert.That(h.Out(), Is.EqualTo(new[] { "S. 0:0(0) ack 1 win 65535 <mss 1460,TS val 1000 ecr 77>" }));
        Assert.That(h.Conn.WindowScaleEnabled || h.Conn.SackEnabled, Is.False);
        h.In(".", 1, ack: 1, win: 29200, options: Opts(ts: (78, 1000)));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.SendWindow, Is.EqualTo(29200));
    }

    [Test]
    public void Paws_DropsSegmentWithOldTimestampAndAcks()
    {
        var h = new ConnectionHarness(Full);
        h.Conn.Listen();
        h.In("S", 0, options: Opts(mss: 1460, ts: (100, 0)));
        h.In(".", 1, ack: 1, options: Opts(ts: (200, 1000)));
        h.Out();
        h.In("P.", 1, 10, ack: 1, options: Opts(ts: (150, 1000)));   // older than TS.Recent 200
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1 win 65535 <TS val 1000 ecr 200>" }));
        Assert.That(h.Conn.BytesAvailable, Is.Zero);
        h.In("P.", 1, 10, ack: 1, options: Opts(ts: (201, 1000)));
        Assert.That(h.Conn.BytesAvailable, Is.EqualTo(10));
    }

    [Test]
    public void ActiveOpen_RstAckAnswer_IsConnectionRefused()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Connect(h.Now);
        h.Out();
        h.In("R", 0, ack: 1, win: 0);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.ConnectionRefused));
        Assert.That(h.Out(), Is.Empty);
    }

    [Test]
    public void SynSent_UnacceptableAck_IsAnsweredWithReset()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Connect(h.Now);
        h.Out();
        h.In("S", 0, ack: 5);
        Assert.That(h.Out(), Is.EqualTo(new[] { "R 5:5(0) win 0" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynSent));
        h.In("R", 0, ack: 5);      // an RST that does not ack our SYN is ignored
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynSent));
        h.In("R", 0);              // and so is one without ACK
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynSent));
    }

    [Test]
    public void Listen_AckGetsReset_RstIgnored()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Listen();
        h.In(".", 1, ack: 7);
        Assert.That(h.Out(), Is.EqualTo(new[] { "R 7:7(0) win 0" }));
        h.In("R", 1);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Listen));
    }

    [Test]
    public void Closed_SegmentWithoutAck_GetsRstAck()
    {
        var h = new ConnectionHarness(Plain);
        h.In("S", 0, 5);
        Assert.That(h.Out(), Is.EqualTo(new[] { "R. 0:0(0) ack 6 win 0" }));
    }

    [Test]
    public void SynReceived_SynAckRetransmittedWithBackoff_AndAtOnceOnRepeatedSyn()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Listen();
        h.In("S", 0, options: Opts(mss: 1000));
        h.Out();
        h.At(3.5);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (1.0, "S. 0:0(0) ack 1 win 65535 <mss 1000>"),
            (3.0, "S. 0:0(0) ack 1 win 65535 <mss 1000>"),
        }));
        h.In("S", 0, options: Opts(mss: 1000));   // the peer's SYN retransmission: our SYN-ACK was lost
        Assert.That(h.Out(), Is.EqualTo(new[] { "S. 0:0(0) ack 1 win 65535 <mss 1000>" }));
        h.In(".", 1, ack: 1);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.SmoothedRtt, Is.Null, "Karn: no sample from a retransmitted SYN-ACK");
    }

    [Test]
    public void SynReceived_BadAck_GetsReset_RstReturnsConnectionToClosed()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Listen();
        h.In("S", 0);
        h.Out();
        h.In(".", 1, ack: 9);
        Assert.That(h.Out(), Is.EqualTo(new[] { "R 9:9(0) win 0" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynReceived));
        h.In("R", 1);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
    }

    [Test]
    public void ActiveOpen_SynRetransmittedUntilUserTimeout()
    {
        var h = new ConnectionHarness(Plain with { UserTimeout = TimeSpan.FromSeconds(10) });
        h.Conn.Connect(h.Now);
        h.Out();
        h.At(9.999);
        Assert.That(h.OutTimed().Select(s => s.At), Is.EqualTo(new[] { 1.0, 3.0, 7.0 }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynSent));
        h.At(10);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.TimedOut));
    }

    [Test]
    public void UserTimeout_AbortsWhenDataStaysUnacknowledged()
    {
        var h = new ConnectionHarness(Plain with { UserTimeout = TimeSpan.FromSeconds(5) });
        h.PassiveOpen();
        h.Conn.Send(new byte[100], h.Now);
        h.Out();
        h.At(5.099);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.OutTimed().Select(s => s.At), Is.EqualTo(new[] { 0.4, 1.0, 2.2, 4.6 }));
        h.At(5.1);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.TimedOut));
        Assert.That(h.Out(), Is.Empty, "a dead peer gets no RST");
    }

    [Test]
    public void Rfc5961_RstExactSequenceResets()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In("R", 1);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.ConnectionReset));
        Assert.That(h.Out(), Is.Empty);
    }

    [Test]
    public void Rfc5961_RstInWindowButNotExact_GetsChallengeAck_OutOfWindowIgnored()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In("R", 500);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        h.In("R", 100_000);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
    }

    [Test]
    public void Rfc5961_SynOnEstablished_GetsChallengeAck()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In("S", 12345);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
    }

    [Test]
    public void Rfc5961_AckOfUnsentData_IsAnsweredAndIgnored()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In("P.", 1, 5, ack: 50);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1 win 65535" }));
        Assert.That(h.Conn.BytesAvailable, Is.Zero);
    }

    [Test]
    public void OldDuplicateData_IsAckedNotDelivered()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In("P.", 1, 10, ack: 1);
        h.Out();
        h.In("P.", 1, 10, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 11 win 65525" }));
        Assert.That(h.Conn.BytesAvailable, Is.EqualTo(10));
    }

    [Test]
    public void DelayedAck_WaitsForTimerOrSecondSegment()
    {
        var h = new ConnectionHarness(Plain with { DelayedAck = TimeSpan.FromMilliseconds(40) });
        h.PassiveOpen();
        h.In("P.", 1, 100, ack: 1);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.14)));
        h.At(0.2);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.14, ". 1:1(0) ack 101 win 65435") }));
        h.In(".", 101, 1000, ack: 1);
        Assert.That(h.Out(), Is.Empty);
        h.In(".", 1101, 1000, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 2101 win 63435" }), "every second segment is ACKed at once");
        h.In(".", 2101, 1000, ack: 1);
        h.Conn.Send(new byte[5], h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:6(5) ack 3101 win 62435" }), "the ACK rides on data");
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(h.Now + h.Conn.RetransmissionTimeout));
    }

    [Test]
    public void ReceiveWindow_ClosesAndReopensWithWindowUpdate()
    {
        var h = new ConnectionHarness(Plain with { ReceiveBufferSize = 4000 });
        h.PassiveOpen();
        for (uint s = 1; s < 4001; s += 1000)
            h.In(".", s, 1000, ack: 1);
        Assert.That(h.Out().Last(), Is.EqualTo(". 1:1(0) ack 4001 win 0"));
        h.In(".", 4001, 10, ack: 1);   // beyond a zero window: not acceptable
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 4001 win 0" }));
        var buf = new byte[500];
        h.Conn.Receive(buf, h.Now);
        Assert.That(h.Out(), Is.Empty, "500 bytes is less than an MSS: no window update (receiver SWS avoidance)");
        h.Conn.Receive(buf, h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 4001 win 1000" }));
        Assert.That(buf, Is.EqualTo(Pattern(501, 500)));
    }

    [Test]
    public void Abort_SendsRst()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Abort(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "R 1:1(0) win 0" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.Aborted));
    }

    [Test]
    public void FinWait1_FinRetransmittedOnTimeout_ThenLastAckRetransmitsToo()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Close(h.Now);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.1, "F. 1:1(0) ack 1 win 65535") }));
        h.At(0.5);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.4, "F. 1:1(0) ack 1 win 65535") }));
        h.In(".", 1, ack: 2);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(h.Now + h.Conn.Config.FinWait2Timeout),
            "after Close (not Shutdown) FIN-WAIT-2 waits for the peer's FIN at most FinWait2Timeout");
    }

    [Test]
    public void CloseWhileDataQueued_FinFollowsTheData()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen(win: 1500);
        h.Conn.Send(new byte[2500], h.Now);
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }), "the 500 bytes the window allows wait (SWS avoidance)");
        h.In(".", 1, ack: 1001, win: 1500);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:2001(1000) ack 1 win 65535", "FP. 2001:2501(500) ack 1 win 65535" }),
            "a short segment goes when it empties the queue; the FIN rides on it");
        h.In(".", 1, ack: 2001, win: 1500);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait1));
        h.In(".", 1, ack: 2502, win: 1500);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(h.Conn.BytesAcknowledged, Is.EqualTo(2500));
    }
}
