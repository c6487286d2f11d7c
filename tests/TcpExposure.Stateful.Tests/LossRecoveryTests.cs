using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>RTO, Karn's rule, fast retransmit (RFC 5681/6582), SACK (RFC 2018/6675) and zero-window probing.</summary>
public class LossRecoveryTests
{
    [Test]
    public void KarnsRule_NoSampleFromRetransmittedSegment_BackoffKeptUntilValidSample()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();                       // SRTT 0.1, RTTVAR 0.05, RTO 0.3
        h.Conn.Send(new byte[1000], h.Now);
        h.At(0.45);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.1, "P. 1:1001(1000) ack 1 win 65535"),
            (0.4, "P. 1:1001(1000) ack 1 win 65535"),
        }));
        Assert.That(h.Conn.RetransmissionTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(600)));

        h.In(".", 1, ack: 1001);               // ambiguous: original or retransmission?
        Assert.That(h.Conn.SmoothedRtt, Is.EqualTo(TimeSpan.FromMilliseconds(100)), "no sample taken");
        Assert.That(h.Conn.RetransmissionTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(600)), "backoff kept");

        h.Conn.Send(new byte[1000], h.Now);
        h.Plus(0.2);
        h.In(".", 1, ack: 2001);               // a segment sent once: valid sample of 0.2 s
        Assert.That(h.Conn.SmoothedRtt, Is.EqualTo(TimeSpan.FromMilliseconds(112.5)));
        Assert.That(h.Conn.RetransmissionTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(362.5)));
    }

    [Test]
    public void FastRetransmit_ThreeDupAcks_NewRenoPartialAndFullAck()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Send(new byte[5000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(5));
        // Segments 1 and 3 are lost; 2, 4 and 5 arrive and each produces a duplicate ACK.
        h.In(".", 1, ack: 1);
        h.In(".", 1, ack: 1);
        Assert.That(h.Out(), Is.Empty, "two duplicates are not enough");
        h.In(".", 1, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }));
        Assert.That(h.Conn.InRecovery, Is.True);
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(2500), "half the flight");
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(5500), "ssthresh + 3 segments");

        // More data while in recovery: each further duplicate inflates the window by a segment.
        h.Conn.Send(new byte[2000], h.Now);
        Assert.That(h.Out(), Is.Empty);
        h.In(".", 1, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 5001:6001(1000) ack 1 win 65535" }));

        // Partial ACK (RFC 6582 step 5): the next hole is retransmitted at once, the window deflated
        // by the 2000 bytes acked less one segment (6500 -> 5500), which lets one new segment go.
        h.In(".", 1, ack: 2001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2001:3001(1000) ack 1 win 65535", "P. 6001:7001(1000) ack 1 win 65535" }));
        Assert.That(h.Conn.InRecovery, Is.True);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(5500));

        // Full ACK of everything outstanding when recovery began: leave recovery, cwnd = min(ssthresh, flight + MSS).
        h.In(".", 1, ack: 5001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(2500));
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(2));
    }

    [Test]
    public void DupAcksAfterTimeout_DoNotTriggerASecondFastRetransmit()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Send(new byte[4000], h.Now);
        h.Out();
        h.At(0.4);                           // RTO: one segment resent, recover = highest sent
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }));
        for (int i = 0; i < 3; i++)
            h.In(".", 1, ack: 1);            // late duplicates from before the timeout
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.InRecovery, Is.False);
    }

    [Test]
    public void SackRecovery_RetransmitsOnlyHoles()
    {
        // RFC 6675's duplicate-threshold recovery (RACK off; RackTests cover the default).
        var h = new ConnectionHarness(Plain with { Sack = true, Rack = false });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        Assert.That(h.Conn.SackEnabled, Is.True);
        h.Conn.Send(new byte[6000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(6));
        // Segments 1001:2001 and 3001:4001 are lost.
        h.In(".", 1, ack: 1001);
        h.In(".", 1, ack: 1001, options: Opts(sacks: [(2001, 3001)]));
        h.In(".", 1, ack: 1001, options: Opts(sacks: [(4001, 5001), (2001, 3001)]));
        Assert.That(h.Out(), Is.Empty);
        h.In(".", 1, ack: 1001, options: Opts(sacks: [(4001, 6001), (2001, 3001)]));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:2001(1000) ack 1 win 65535" }),
            "first hole only: cwnd = ssthresh 2500 and the second hole still counts in the pipe");
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(2500));

        h.In(".", 1, ack: 3001, options: Opts(sacks: [(4001, 6001)]));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 3001:4001(1000) ack 1 win 65535" }),
            "the remaining hole; 2001:3001 was SACKed and is never resent");
        h.In(".", 1, ack: 6001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(2));
        Assert.That(h.Conn.BytesAcknowledged, Is.EqualTo(6000));
    }

    [Test]
    public void SackRecovery_ManyLostSegmentsRetransmittedInOneRound()
    {
        var h = new ConnectionHarness(Plain with { Sack = true, Rack = false });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        h.Conn.Send(new byte[10000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(10));
        // Every odd segment lost: 1:1001, 2001:3001, 4001:5001, 6001:7001 ...; 5 SACK ranges come back.
        h.In(".", 1, ack: 1, options: Opts(sacks: [(1001, 2001)]));
        h.In(".", 1, ack: 1, options: Opts(sacks: [(3001, 4001), (1001, 2001)]));
        h.In(".", 1, ack: 1, options: Opts(sacks: [(5001, 6001), (3001, 4001), (1001, 2001)]));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }),
            "cwnd = ssthresh 5000, pipe 7000: only the first hole now");
        h.In(".", 1, ack: 1, options: Opts(sacks: [(7001, 8001), (5001, 6001), (3001, 4001), (1001, 2001)]));
        Assert.That(h.Out(), Is.Empty, "pipe 5000 = cwnd");
        h.In(".", 1, ack: 1, options: Opts(sacks: [(9001, 10001), (7001, 8001), (5001, 6001), (3001, 4001)]));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2001:3001(1000) ack 1 win 65535", ". 4001:5001(1000) ack 1 win 65535" }),
            "pipe fell to 3000: the two holes now deemed lost go, SACKed segments never");
        h.In(".", 1, ack: 6001, options: Opts(sacks: [(9001, 10001), (7001, 8001)]));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 6001:7001(1000) ack 1 win 65535", ". 8001:9001(1000) ack 1 win 65535" }),
            "RFC 6675 NextSeg rule 3: holes below the highest SACK go once the pipe allows, lost or not");
        h.In(".", 1, ack: 8001, options: Opts(sacks: [(9001, 10001)]));
        Assert.That(h.Out(), Is.Empty);
        h.In(".", 1, ack: 10001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(5));
    }

    [Test]
    public void Receiver_SendsSackBlocks_MostRecentFirst()
    {
        var h = new ConnectionHarness(Plain with { Sack = true });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        h.In("P.", 1, 200, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335" }));
        h.In("P.", 231, 20, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335 <sack 231:251>" }));
        h.In("P.", 301, 50, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335 <sack 301:351 231:251>" }));
        h.In("P.", 251, 10, ack: 1);   // joins 231:251
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335 <sack 231:261 301:351>" }));
        h.In("P.", 201, 30, ack: 1);   // fills the first hole
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 261 win 65275 <sack 301:351>" }));
        h.In("P.", 261, 40, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 351 win 65185" }));
        var buf = new byte[400];
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo(350));
        Assert.That(buf[..350], Is.EqualTo(Pattern(1, 350)));
    }

    [Test]
    public void ZeroWindow_ProbesWithBackoffUntilWindowOpens()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In(".", 1, ack: 1, win: 0);
        Assert.That(h.Conn.SendWindow, Is.Zero);
        h.Conn.Send(Pattern(1, 100), h.Now);
        Assert.That(h.Out(), Is.Empty, "nothing fits a closed window");
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.4)), "persist timer at one RTO");

        h.At(0.45);
        h.In(".", 1, ack: 1, win: 0);          // probe answered: still closed
        h.At(1.05);
        h.In(".", 1, ack: 1, win: 0);
        h.At(2.25);
        h.In(".", 1, ack: 1, win: 0);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.4, ". 1:2(1) ack 1 win 65535"),
            (1.0, ". 1:2(1) ack 1 win 65535"),
            (2.2, ". 1:2(1) ack 1 win 65535"),
        }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));

        h.At(2.3);
        h.In(".", 1, ack: 1, win: 1000);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:101(100) ack 1 win 65535" }));
        h.In(".", 1, ack: 101, win: 1000);
        Assert.That(h.Conn.NextDeadline, Is.Null);
    }

    [Test]
    public void ZeroWindow_ProbeByteAccepted_AdvancesSendSequence()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.In(".", 1, ack: 1, win: 0);
        h.Conn.Send(Pattern(1, 100), h.Now);
        h.At(0.4);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:2(1) ack 1 win 65535" }));
        h.In(".", 1, ack: 2, win: 0);          // the receiver took the byte but is full again
        Assert.That(h.Conn.SendUnacknowledged.Value - OurIsn, Is.EqualTo(2u));
        h.At(1.1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:3(1) ack 1 win 65535" }));
        h.In(".", 1, ack: 3, win: 500);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 3:101(98) ack 1 win 65535" }));
    }

    [Test]
    public void ZeroWindow_SilentPeer_HitsUserTimeout()
    {
        var h = new ConnectionHarness(Plain with { UserTimeout = TimeSpan.FromSeconds(3) });
        h.PassiveOpen();
        h.In(".", 1, ack: 1, win: 0);
        h.Conn.Send(new byte[10], h.Now);
        h.At(3.1);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.TimedOut));
    }

    [Test]
    public void SlowStart_GrowsOneSegmentPerAck_CongestionAvoidanceAfterLoss()
    {
        var h = new ConnectionHarness(Plain with { InitialWindowSegments = 2 });
        h.PassiveOpen();
        h.Conn.Send(new byte[20000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(2));
        h.In(".", 1, ack: 1001);
        Assert.That(h.Out(), Has.Length.EqualTo(2), "cwnd 3000: one freed plus one more");
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(3000));
    }

    [Test]
    public void Cubic_IsSelectableAndRecovers()
    {
        var h = new ConnectionHarness(Plain with { CongestionControl = CongestionAlgorithm.Cubic });
        h.PassiveOpen();
        h.Conn.Send(new byte[5000], h.Now);
        h.Out();
        for (int i = 0; i < 3; i++)
            h.In(".", 1, ack: 1);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }));
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(7000), "beta 0.7 of a 10-segment window");
        h.In(".", 1, ack: 5001);
        Assert.That(h.Conn.InRecovery, Is.False);
    }
}

/// <summary>Tail loss probes (RFC 8985 section 7).</summary>
public class TailLossProbeTests
{
    [Test]
    public void SilentTail_ProbesLastSegmentAfterTwoRtts_ThenRto()
    {
        var h = new ConnectionHarness(Plain with { TailLossProbe = true });
        h.PassiveOpen();                           // SRTT 0.1 s, RTO 0.3 s
        h.Conn.Send(new byte[2000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(2));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.3)), "PTO = 2 SRTT, before the RTO");
        h.At(0.95);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.3, "P. 1001:2001(1000) ack 1 win 65535"),   // the probe: last segment again
            (0.6, ". 1:1001(1000) ack 1 win 65535"),        // then the RTO, counted from the probe
        }));
        Assert.That(h.Conn.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void ProbeDrawsSackThatStartsFastRecovery()
    {
        // RFC 6675 loss detection (RACK off): one SACKed segment is no loss yet. With RACK the
        // probe's SACK marks the older segments lost at once (RackTests.TailLossProbe_...).
        var h = new ConnectionHarness(Plain with { TailLossProbe = true, Sack = true, Rack = false });
        h.PassiveOpen(synOptions: ConnectionHarness.Opts(mss: 1000, sackOk: true));
        h.Conn.Send(new byte[4000], h.Now);
        h.Out();
        h.In(".", 1, ack: 1001);                   // segments 2..4 lost: the flight goes silent
        // The ACK at 0.1 s was a 0 s sample: SRTT 87.5 ms, PTO 175 ms.
        h.At(0.28);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.275, "P. 3001:4001(1000) ack 1 win 65535") }));
        h.In(".", 1, ack: 1001, options: ConnectionHarness.Opts(sacks: [(3001, 4001)]));
        Assert.That(h.Out(), Is.Empty, "one SACKed segment above is not yet a loss");
        Assert.That(h.Conn.Timeouts, Is.Zero);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.275) + h.Conn.RetransmissionTimeout), "no second probe: the RTO follows");
    }
}
