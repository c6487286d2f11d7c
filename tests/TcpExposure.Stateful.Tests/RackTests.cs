using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// RACK-TLP (RFC 8985), PRR (RFC 6937) and D-SACK undo (RFC 2883) on the virtual clock: segments
/// in at a time, exactly the segments out. The handshake gives SRTT 0.1 s and RTO 0.3 s; data
/// leaves at 0.1 s, so an ACK at 0.2 s measures a 0.1 s RTT (RACK's min RTT; reo_wnd 25 ms).
/// </summary>
public class RackTests
{
    private static ConnectionHarness Open(TcpConfig? config = null)
    {
        var h = new ConnectionHarness(config ?? Plain with { Sack = true });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        Assert.That(h.Conn.SackEnabled, Is.True);
        return h;
    }

    private static void SackedUpTo(ConnectionHarness h, uint ack, uint left, uint right)
        => h.In(".", 1, ack: ack, options: Opts(sacks: [(left, right)]));

    [Test]
    public void OneSackedSegment_LossMarkedWhenTheReorderWindowRunsOut()
    {
        var h = Open();
        h.Conn.Send(new byte[4000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(4));
        h.At(0.2);
        h.In(".", 1, ack: 1001);
        SackedUpTo(h, 1001, 2001, 3001);       // 1001:2001 missing, one segment SACKed above it
        Assert.That(h.Out(), Is.Empty, "not three duplicates, and the reorder window (25 ms) has not passed");
        Assert.That(h.Conn.RackState.ReorderWindow, Is.EqualTo(TimeSpan.FromMilliseconds(25)));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.225)),
            "sent at 0.1 + RACK.rtt 0.1 + reo_wnd 0.025, well before the RTO at 0.5");

        h.At(0.3);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.225, ". 1001:2001(1000) ack 1 win 65535") }));
        Assert.That(h.Conn.InRecovery, Is.True);
        Assert.That(h.Conn.FastRetransmits, Is.EqualTo(1));
        Assert.That(h.Conn.Timeouts, Is.Zero);
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(2000), "max(flight 3000 / 2, 2 segments)");

        h.In(".", 1, ack: 4001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(2000), "PRR ends at ssthresh");
    }

    [Test]
    public void ThreeSackedSegments_LossAtOnce_LostRetransmissionRepairedWithoutRto()
    {
        var h = Open();
        h.Conn.Send(new byte[6000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(6));
        h.At(0.2);
        h.In(".", 1, ack: 1001);
        SackedUpTo(h, 1001, 2001, 3001);
        SackedUpTo(h, 1001, 2001, 4001);
        Assert.That(h.Out(), Is.Empty);
        SackedUpTo(h, 1001, 2001, 5001);       // DupThresh segments SACKed: reo_wnd is zero
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.2, ". 1001:2001(1000) ack 1 win 65535") }));
        Assert.That(h.Conn.RackState.ReorderWindow, Is.EqualTo(TimeSpan.Zero));

        // New data goes out under PRR once 5001:6001 is SACKed; the retransmission is lost.
        h.Conn.Send(new byte[1000], h.Now);
        h.At(0.3);
        SackedUpTo(h, 1001, 2001, 6001);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 6001:7001(1000) ack 1 win 65535" }));
        // 6001:7001 left after the retransmission and is SACKed first: the retransmission is lost too.
        h.At(0.4);
        h.In(".", 1, ack: 1001, options: Opts(sacks: [(6001, 7001), (2001, 6001)]));
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.4, ". 1001:2001(1000) ack 1 win 65535") }));
        Assert.That(h.Conn.Timeouts, Is.Zero, "the RTO (0.5 s) never fired");
        Assert.That(h.Conn.FastRetransmits, Is.EqualTo(1), "one recovery episode");

        h.At(0.45);
        h.In(".", 1, ack: 7001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(2));
        Assert.That(h.Conn.BytesAcknowledged, Is.EqualTo(7000));
    }

    [Test]
    public void Prr_SendsAtHalfTheDeliveryRateDownToSsthresh()
    {
        var h = Open();
        h.Conn.Send(new byte[20000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(10), "initial window of 10 segments");
        h.At(0.2);
        // 1:1001 lost; each later segment's arrival produces one SACK. Before recovery every SACKed
        // segment leaves the pipe, so a new one goes.
        SackedUpTo(h, 1, 1001, 2001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 10001:11001(1000) ack 1 win 65535" }));
        SackedUpTo(h, 1, 1001, 3001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 11001:12001(1000) ack 1 win 65535" }));
        SackedUpTo(h, 1, 1001, 4001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }),
            "loss: pipe 8000 > ssthresh 6000, proportional share 500 bytes, rounded up to the fast retransmission");
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(6000), "half the flight of 12000");
        SackedUpTo(h, 1, 1001, 5001);
        Assert.That(h.Out(), Is.Empty, "prr_delivered 2000 * 6000 / 12000 - prr_out 1000 = 0");
        SackedUpTo(h, 1, 1001, 6001);
        Assert.That(h.Out(), Is.Empty, "1500 - 1000 = 500: less than a segment");
        SackedUpTo(h, 1, 1001, 7001);
        Assert.That(h.Out(), Is.Empty, "pipe 6000 = ssthresh: nothing");
        var sent = new List<string>();
        for (uint right = 8001; right <= 12001; right += 1000)
        {
            SackedUpTo(h, 1, 1001, right);
            sent.AddRange(h.Out());
        }
        Assert.That(sent, Is.EqualTo(new[]
        {
            ". 12001:13001(1000) ack 1 win 65535",
            ". 13001:14001(1000) ack 1 win 65535",
            ". 14001:15001(1000) ack 1 win 65535",
            ". 15001:16001(1000) ack 1 win 65535",
            ". 16001:17001(1000) ack 1 win 65535",
        }), "pipe below ssthresh: one segment per segment delivered, holding the pipe at ssthresh");

        h.In(".", 1, ack: 17001);
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(6000), "PRR ends at ssthresh");
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(1));
    }

    [Test]
    public void TailLossProbe_FiresAtPto_ItsSackStartsRecovery()
    {
        var h = Open(Plain with { Sack = true, TailLossProbe = true });
        h.Conn.Send(new byte[3000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(3));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.3)), "PTO = 2 SRTT before the RTO");
        h.At(0.2);
        h.In(".", 1, ack: 1001);               // then the tail goes silent: 1001:2001 and 2001:3001 lost
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.4)));
        h.At(0.45);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.4, "P. 2001:3001(1000) ack 1 win 65535") }),
            "the probe resends the highest segment not SACKed");
        Assert.That(h.Conn.TailLossProbes, Is.EqualTo(1));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.7)),
            "a second probe would come after 2 PTO = 0.4 s, later than the RTO: the RTO follows");

        h.At(0.5);
        SackedUpTo(h, 1001, 2001, 3001);       // the probe arrived: 1001:2001 was sent before it
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:2001(1000) ack 1 win 65535" }));
        Assert.That(h.Conn.InRecovery, Is.True);
        Assert.That(h.Conn.Timeouts, Is.Zero);
    }

    [Test]
    public void TailLossProbe_RepeatsWhileThePtoStaysBelowTheRto()
    {
        var h = Open(Plain with { Sack = true, TailLossProbe = true, MinRto = TimeSpan.FromSeconds(2) });
        h.Conn.Send(new byte[2000], h.Now);
        h.Out();
        h.At(3.2);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.3, "P. 1001:2001(1000) ack 1 win 65535"),   // PTO 0.2
            (0.7, "P. 1001:2001(1000) ack 1 win 65535"),   // 2 PTO
            (1.5, "P. 1001:2001(1000) ack 1 win 65535"),   // 4 PTO
            (3.1, "P. 1001:2001(1000) ack 1 win 65535"),   // 8 PTO = 1.6 s, the last below the RTO
        }));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(5.1)), "16 PTO would pass the RTO (2 s): the RTO follows");
        Assert.That(h.Conn.Timeouts, Is.Zero);

        h.At(5.15);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (5.1, ". 1:1001(1000) ack 1 win 65535") }), "the RTO resends the first segment");
        Assert.That(h.Conn.Timeouts, Is.EqualTo(1));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(5.3)), "and probing starts over: PTO 0.2 s < RTO 4 s");
    }

    [Test]
    public void SackedDataRestartsProbing()
    {
        var h = Open(Plain with { Sack = true, TailLossProbe = true, MinRto = TimeSpan.FromSeconds(2) });
        h.Conn.Send(new byte[3000], h.Now);
        h.Out();
        h.At(0.35);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.3, "P. 2001:3001(1000) ack 1 win 65535") }));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.7)), "second probe at 2 PTO");
        SackedUpTo(h, 1, 2001, 3001);          // the probe arrived: SACKed, not yet cumulatively acknowledged
        Assert.That(h.Conn.RackState.SmoothedRtt, Is.EqualTo(TimeSpan.FromSeconds(0.05)), "the probe's SACK is RACK's first RTT sample");
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.45)), "probing starts over from one PTO (2 x RACK's SRTT)");
    }

    [Test]
    public void Timeout_MarksEverythingLost_ResendsOneWindowAtATime()
    {
        var h = Open();
        h.Conn.Send(new byte[3000], h.Now);
        h.Out();
        h.At(0.45);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.4, ". 1:1001(1000) ack 1 win 65535") }), "cwnd is one segment");
        h.At(0.5);
        h.In(".", 1, ack: 1001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:2001(1000) ack 1 win 65535", "P. 2001:3001(1000) ack 1 win 65535" }),
            "slow start: two segments, both already deemed lost");
        Assert.That(h.Conn.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void Dsack_ForEveryRetransmission_UndoesTheReduction()
    {
        var h = Open();
        h.Conn.Send(new byte[5000], h.Now);
        h.Out();
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(10000));
        h.At(0.2);
        SackedUpTo(h, 1, 1001, 2001);          // 1:1001 only delayed, but three SACKs say lost
        SackedUpTo(h, 1, 1001, 3001);
        SackedUpTo(h, 1, 1001, 4001);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1001(1000) ack 1 win 65535" }));
        h.In(".", 1, ack: 5001);               // the original arrives
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(2500));
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(2500));

        h.At(0.3);
        h.In(".", 1, ack: 5001, options: Opts(sacks: [(1, 1001)]));   // D-SACK: the retransmission was a duplicate
        Assert.That(h.Conn.SpuriousRecoveriesUndone, Is.EqualTo(1));
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(10000), "back to the window before the reduction");
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(int.MaxValue));
    }

    [Test]
    public void Dsack_ForATailLossProbe_UndoesNothing()
    {
        var h = Open(Plain with { Sack = true, TailLossProbe = true });
        h.Conn.Send(new byte[2000], h.Now);
        h.Out();
        h.At(0.35);                            // the probe at 0.3 resends 1001:2001
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1001:2001(1000) ack 1 win 65535" }));
        h.In(".", 1, ack: 2001, options: Opts(sacks: [(1001, 2001)]));  // the ACK was only late
        Assert.That(h.Conn.SpuriousRecoveriesUndone, Is.Zero);
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(10000 + 1000), "slow start (one segment per ACK), no reduction");
    }

    [Test]
    public void RackOff_KeepsRfc6675Recovery()
    {
        var h = Open(Plain with { Sack = true, Rack = false });
        h.Conn.Send(new byte[4000], h.Now);
        h.Out();
        h.At(0.2);
        h.In(".", 1, ack: 1001);
        SackedUpTo(h, 1001, 2001, 3001);
        h.At(0.45);
        Assert.That(h.Out(), Is.Empty, "no reorder timer");
        h.At(0.55);
        Assert.That(h.OutTimed()[0], Is.EqualTo((0.5, ". 1001:2001(1000) ack 1 win 65535")), "the RTO repairs it");
    }
}

/// <summary>Keepalive (RFC 9293 3.8.4) on the virtual clock.</summary>
public class KeepAliveTests
{
    private static TcpConfig Config => Plain with
    {
        KeepAliveIdle = TimeSpan.FromSeconds(10),
        KeepAliveInterval = TimeSpan.FromSeconds(1),
        KeepAliveCount = 3,
    };

    [Test]
    public void Idle_ProbesAfterIdleTime_AnswerRestartsTheCount()
    {
        var h = new ConnectionHarness(Config);
        h.PassiveOpen();                       // last heard from the peer at 0.1
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(10.1)));
        h.At(10.15);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (10.1, ". 0:0(0) ack 1 win 65535") }), "SND.UNA - 1, no data");
        h.In(".", 1, ack: 1);                  // the peer's ACK
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(20.15)));
        Assert.That(h.Conn.KeepAliveProbes, Is.EqualTo(1));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
    }

    [Test]
    public void SilentPeer_DroppedAfterCountProbes_WithKeepAliveError()
    {
        var h = new ConnectionHarness(Config);
        h.PassiveOpen();
        h.At(20);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (10.1, ". 0:0(0) ack 1 win 65535"),
            (11.1, ". 0:0(0) ack 1 win 65535"),
            (12.1, ". 0:0(0) ack 1 win 65535"),
            (13.1, "R. 1:1(0) ack 1 win 0"),
        }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.KeepAliveTimedOut));
        var e = TcpSocketException.For(h.Conn.Error, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 80), h.Conn.Config);
        Assert.That(e, Is.TypeOf<ConnectionTimedOutException>());
        Assert.That(((ConnectionTimedOutException)e).Error, Is.EqualTo(TcpError.KeepAliveTimedOut));
        Assert.That(e.Message, Does.Contain("3 keepalive probes"));
    }

    [Test]
    public void OutstandingData_NoProbe_RetransmissionTimerInstead()
    {
        var h = new ConnectionHarness(Config with { UserTimeout = TimeSpan.FromSeconds(100) });
        h.PassiveOpen();
        h.Conn.Send(new byte[100], h.Now);
        h.Out();
        h.At(12);
        var sent = h.Out();
        Assert.That(sent, Is.Not.Empty.And.All.StartWith("P. 1:101(100)"), "only retransmissions, no keepalive while data is outstanding");
        h.In(".", 1, ack: 101);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(22)), "idle counted from the last segment heard");
    }

    [Test]
    public void Disabled_ByDefault()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        Assert.That(h.Conn.NextDeadline, Is.Null);
    }

    [Test]
    public void SmoothedRtt_OneSamplePerAck_FromTheMostRecentlySentSegment()
    {
        var r = new Rack(16);
        var t0 = TimeSpan.FromSeconds(1);
        r.OnSent(1000u, 2000u, t0);
        r.OnSent(2000u, 3000u, t0 + TimeSpan.FromMicroseconds(100));
        r.OnSent(3000u, 4000u, t0 + TimeSpan.FromMicroseconds(200));
        Assert.That(r.SmoothedRtt, Is.Null);
        r.OnAck(2000u, [], null, t0 + TimeSpan.FromMicroseconds(300));
        Assert.That(r.SmoothedRtt, Is.EqualTo(TimeSpan.FromMicroseconds(300)), "the first sample is taken as it is");
        r.OnAck(4000u, [], null, t0 + TimeSpan.FromMicroseconds(1000));
        // Two segments delivered, one sample: the newer one's 800 us (the older's 900 us includes
        // the time the receiver held its ACK). SRTT = 7/8 300 + 1/8 800 us.
        Assert.That(r.Rtt, Is.EqualTo(TimeSpan.FromMicroseconds(800)));
        Assert.That(r.SmoothedRtt, Is.EqualTo(TimeSpan.FromMicroseconds(362.5)));
        r.OnAck(4000u, [], null, t0 + TimeSpan.FromMicroseconds(2000));
        Assert.That(r.SmoothedRtt, Is.EqualTo(TimeSpan.FromMicroseconds(362.5)), "an ACK that delivers nothing is no sample");
    }

    [Test]
    public void SubMillisecondPath_ProbeTimeoutFollowsRackRtt_NotMillisecondTimestamps()
    {
        // Timestamps tick in milliseconds: on a 0.2 ms path every echo measures 0 ms, so SRTT from
        // them is zero and a PTO from it would sit on the floor. RACK times transmissions: 2 x 0.2 ms.
        var h = new ConnectionHarness(Plain with { Sack = true, Timestamps = true, TailLossProbe = true });
        h.At(1.0);                                        // our timestamp clock reads 1000
        h.Conn.Listen();
        h.In("S", 0, options: Opts(mss: 1000, sackOk: true, ts: (1, 0)));
        h.Out();
        h.AdvanceTo(TimeSpan.FromSeconds(1) + TimeSpan.FromMicroseconds(200));
        h.In(".", 1, ack: 1, options: Opts(ts: (2, 1000)));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        h.Out();
        h.Conn.Send(new byte[2 * 988], h.Now);            // two segments (MSS 1000 less 12 bytes of timestamps)
        Assert.That(h.Out(), Has.Length.EqualTo(2));
        h.AdvanceTo(TimeSpan.FromSeconds(1) + TimeSpan.FromMicroseconds(400));
        h.In(".", 1, ack: 989, options: Opts(ts: (3, 1000)));    // the first segment; the second's ACK is held
        Assert.That(h.Conn.RackState.SmoothedRtt, Is.EqualTo(TimeSpan.FromMicroseconds(200)));
        var probeAt = TimeSpan.FromSeconds(1) + TimeSpan.FromMicroseconds(800);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(probeAt), "PTO = 2 x 0.2 ms after the ACK (not the 0.25 ms floor)");
        h.AdvanceTo(TimeSpan.FromSeconds(1.001));          // before a second probe (twice the PTO later)
        var sent = h.OutRaw();
        Assert.That(sent.Select(x => x.At), Is.EqualTo(new[] { probeAt }), "the probe, 300 ms before the RTO");
        Assert.That(h.Conn.TailLossProbes, Is.EqualTo(1));
    }
}
