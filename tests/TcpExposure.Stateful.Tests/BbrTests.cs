using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;
using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// BBR v1 on the virtual clock: delivery rate samples from the transmission record
/// (draft-cheng-iccrg-delivery-rate-estimation), the windowed filters, the state machine fed
/// synthetic samples, and, through a connection, what a loss and an RTO do to the window.
/// </summary>
public class BbrTests
{
    private const int Mss = 1000;
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);
    private static SeqNumber Seq(uint v) => new(v);

    // ------------------------------------------------------------------ rate samples

    [Test]
    public void RateSample_FromAKnownAckSequence()
    {
        var rack = new Rack(64);
        for (uint i = 0; i < 10; i++)
            rack.OnSent(Seq(i * 1000), Seq(i * 1000 + 1000), TimeSpan.Zero);

        // 10 ms later two segments are acknowledged: 2000 bytes over the ACK interval of 10 ms.
        rack.OnAck(Seq(2000), default, null, Ms(10));
        var rs = rack.LastRateSample;
        Assert.That(rs.HasSample && rs.Valid, Is.True);
        Assert.That(rs.Delivered, Is.EqualTo(2000));
        Assert.That(rs.Interval, Is.EqualTo(Ms(10)));
        Assert.That(rs.BytesPerSecond, Is.EqualTo(200_000).Within(1e-6));
        Assert.That(rs.Rtt, Is.EqualTo(Ms(10)));
        Assert.That(rs.AckedSacked, Is.EqualTo(2000));

        // Two more leave at 10 ms, carrying the delivery state of then (2000 bytes, at 10 ms).
        rack.OnSent(Seq(10_000), Seq(11_000), Ms(10));
        rack.OnSent(Seq(11_000), Seq(12_000), Ms(10));

        // At 20 ms the rest of the first flight: the sample is its last segment, sent at 0 with
        // nothing delivered: 10000 bytes in 20 ms.
        rack.OnAck(Seq(10_000), default, null, Ms(20));
        rs = rack.LastRateSample;
        Assert.That(rs.Delivered, Is.EqualTo(10_000));
        Assert.That(rs.Interval, Is.EqualTo(Ms(20)));
        Assert.That(rs.BytesPerSecond, Is.EqualTo(500_000).Within(1e-6));
        Assert.That(rs.TotalDelivered, Is.EqualTo(10_000));

        // At 22 ms a SACK for 11000:12000 (10000:11000 is missing): the sample is that segment,
        // sent at 10 ms with 2000 delivered at 10 ms; send interval 10 ms (first sent at 0),
        // ACK interval 12 ms: 9000 bytes over the longer, 12 ms.
        rack.OnAck(Seq(10_000), [new SackBlock(Seq(11_000), Seq(12_000))], null, Ms(22));
        rs = rack.LastRateSample;
        Assert.That(rs.AckedSacked, Is.EqualTo(1000));
        Assert.That(rs.PriorDelivered, Is.EqualTo(2000));
        Assert.That(rs.SendElapsed, Is.EqualTo(Ms(10)));
        Assert.That(rs.Interval, Is.EqualTo(Ms(12)));
        Assert.That(rs.Delivered, Is.EqualTo(9000));
        Assert.That(rs.BytesPerSecond, Is.EqualTo(750_000).Within(1e-6));
        Assert.That(rack.Delivered, Is.EqualTo(11_000), "each byte counts once: SACKed now, not again when cumulatively ACKed");

        rack.OnAck(Seq(12_000), default, null, Ms(23));
        Assert.That(rack.Delivered, Is.EqualTo(12_000));
        Assert.That(rack.LastRateSample.AckedSacked, Is.EqualTo(1000));
    }

    [Test]
    public void RateSample_ShorterThanMinRtt_IsInvalid_AndAppLimitedIsFlagged()
    {
        var rack = new Rack(64);
        rack.OnSent(Seq(0), Seq(1000), TimeSpan.Zero);
        rack.OnSent(Seq(1000), Seq(2000), TimeSpan.Zero);
        rack.OnAck(Seq(1000), default, null, Ms(10));
        Assert.That(rack.LastRateSample.Valid, Is.True);
        Assert.That(rack.Delivered, Is.EqualTo(1000));

        // The application has nothing more: what is in flight now measures it, not the path.
        rack.MarkAppLimited(1000);
        rack.OnSent(Seq(2000), Seq(3000), Ms(10));
        // A stretch ACK 1 ms later for the second segment: interval 10 ms (ACK side), fine.
        rack.OnAck(Seq(2000), default, null, Ms(11));
        Assert.That(rack.LastRateSample.IsAppLimited, Is.False, "sent before the bubble");
        // The segment sent while application-limited.
        rack.OnAck(Seq(3000), default, null, Ms(21));
        Assert.That(rack.LastRateSample.IsAppLimited, Is.True);
        Assert.That(rack.AppLimited, Is.False, "the bubble is delivered");

        // An ACK interval below the minimum RTT (10 ms) gives no rate.
        rack.OnSent(Seq(3000), Seq(4000), Ms(30));
        rack.OnSent(Seq(4000), Seq(5000), Ms(30));
        rack.OnAck(Seq(4000), default, null, Ms(41));
        rack.OnSent(Seq(5000), Seq(6000), Ms(41));
        rack.OnAck(Seq(6000), default, null, Ms(42));
        var rs = rack.LastRateSample;
        Assert.That(rs.HasSample, Is.True);
        Assert.That(rs.Interval, Is.EqualTo(Ms(11)), "sent 41, first sent 30 (send 11 ms) vs delivered 41 -> 42 (ack 1 ms)");
        Assert.That(rs.Valid, Is.True);
    }

    // ------------------------------------------------------------------ filters

    [Test]
    public void WindowedMax_KeepsTheMaximumForTheWindowThenTheNextBest()
    {
        var f = new WindowedMaxFilter();
        Assert.That(f.Update(10, 0, 100), Is.EqualTo(100));
        Assert.That(f.Update(10, 1, 50), Is.EqualTo(100));
        Assert.That(f.Update(10, 3, 50), Is.EqualTo(100));
        Assert.That(f.Update(10, 5, 50), Is.EqualTo(100));
        Assert.That(f.Update(10, 10, 40), Is.EqualTo(100), "still inside the window");
        Assert.That(f.Update(10, 11, 40), Is.EqualTo(50), "100 aged out; 50 (round 5) is the next best");
        Assert.That(f.Update(10, 16, 40), Is.EqualTo(40));
        Assert.That(f.Update(10, 17, 90), Is.EqualTo(90), "a new maximum replaces everything");
    }

    /// <summary>Feeds one ACK per round: <paramref name="bw"/> bytes/s over <paramref name="rtt"/>.</summary>
    private sealed class Driver(BbrCongestionControl bbr)
    {
        public TimeSpan Now;
        public long Delivered;
        public int InFlight = 10 * Mss;

        public void Round(double bw, TimeSpan rtt, int? inFlight = null, RecoveryState state = RecoveryState.Open, int lost = 0, bool appLimited = false)
        {
            Now += rtt;
            long prior = Delivered;
            int acked = (int)(bw * rtt.TotalSeconds);
            Delivered += acked;
            var rs = new RateSample
            {
                HasSample = true,
                Valid = true,
                PriorDelivered = prior,
                PriorTime = Now - rtt,
                Delivered = acked,
                Interval = rtt,
                Rtt = rtt,
                AckedSacked = acked,
                TotalDelivered = Delivered,
                DeliveredTime = Now,
                IsAppLimited = appLimited,
            };
            if (inFlight is { } f)
                InFlight = f;
            bbr.Update(rs, InFlight, lost, state, Now);
        }
    }

    [Test]
    public void BtlBw_IsTheMaxOverTenRounds_RtProp_TheMinOverTenSeconds()
    {
        var bbr = new BbrCongestionControl(Mss, 10);
        var d = new Driver(bbr);
        d.Round(1_000_000, Ms(10));
        d.Round(4_000_000, Ms(12));
        Assert.That(bbr.BottleneckBandwidth, Is.EqualTo(4_000_000));
        Assert.That(bbr.MinRtt, Is.EqualTo(Ms(10)));
        long peak = bbr.RoundCount;
        while (bbr.RoundCount < peak + 10)
            d.Round(2_000_000, Ms(20));
        Assert.That(bbr.BottleneckBandwidth, Is.EqualTo(4_000_000), "ten rounds: still in the window");
        d.Round(2_000_000, Ms(20));
        Assert.That(bbr.BottleneckBandwidth, Is.EqualTo(2_000_000), "eleven rounds later the peak is gone");
        Assert.That(bbr.MinRtt, Is.EqualTo(Ms(10)), "higher RTTs do not replace the minimum within 10 s");
        Assert.That(bbr.Mode, Is.Not.EqualTo(BbrMode.ProbeRtt));
    }

    [Test]
    public void Startup_Drain_ProbeBw_AfterThePipeIsFull()
    {
        var bbr = new BbrCongestionControl(Mss, 10);
        var d = new Driver(bbr);
        var rtt = Ms(10);
        // Doubling bandwidth: Startup, with its 2/ln2 gains.
        for (double bw = 250_000; bw <= 2_000_000; bw *= 2)
            d.Round(bw, rtt, inFlight: bbr.Window);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.Startup));
        Assert.That(bbr.PacingGain, Is.EqualTo(BbrCongestionControl.HighGain));
        Assert.That(bbr.FullBandwidthReached, Is.False);

        // A plateau: three rounds with less than 25% growth fill the pipe.
        d.Round(2_100_000, rtt, inFlight: bbr.Window);
        d.Round(2_100_000, rtt, inFlight: bbr.Window);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.Startup));
        d.Round(2_100_000, rtt, inFlight: bbr.Window);
        Assert.That(bbr.FullBandwidthReached, Is.True);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.Drain), "Startup's queue of up to 1.9 BDP is still in flight");
        Assert.That(bbr.PacingGain, Is.EqualTo(BbrCongestionControl.DrainGain));

        // The flight falls to one BDP (2.1 MB/s * 10 ms = 21000 bytes): ProbeBW.
        d.Round(2_100_000, rtt, inFlight: 20_000);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw));
        Assert.That(bbr.CycleIndex, Is.Not.EqualTo(1), "never starts in the 0.75 phase");
        Assert.That(bbr.CwndGainNow, Is.EqualTo(2));

        // The window converges on 2 BDP plus three send quanta (and the probing phase's two segments).
        for (int i = 0; i < 40; i++)
            d.Round(2_100_000, rtt, inFlight: 20_000);
        Assert.That(bbr.Window, Is.EqualTo(bbr.TargetWindow));
        // A quantum is a millisecond at the pacing rate: at most 1.25 * 0.99 * 2.1 MB/s / 1024 = 2538 bytes.
        Assert.That(bbr.Window, Is.InRange(2 * 21_000, 2 * 21_000 + 3 * 2_538 + 2 * Mss + 21_000),
            "2 BDP + 3 quanta (+ 2 segments in the 1.25 phase) + at most the ACK aggregation seen (one BDP per ACK here)");
        var gains = new HashSet<double>();
        for (int i = 0; i < 16; i++)
        {
            d.Round(2_100_000, rtt, inFlight: 20_000);
            gains.Add(bbr.PacingGain);
        }
        Assert.That(gains, Is.EquivalentTo(new[] { 1.25, 0.75, 1.0 }), "the pacing gain cycles");
    }

    [Test]
    public void ProbeRtt_AfterTenSecondsWithoutANewMinimum_ThenBack()
    {
        var bbr = new BbrCongestionControl(Mss, 10);
        var d = new Driver(bbr);
        for (int i = 0; i < 10; i++)
            d.Round(1_000_000 * Math.Min(8, 1 << i), Ms(10), inFlight: bbr.Window);
        Assert.That(bbr.FullBandwidthReached, Is.True);
        d.Round(8_000_000, Ms(10), inFlight: 10_000);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw));
        int before = bbr.Window;
        while (d.Now < TimeSpan.FromSeconds(10.5))
        {
            d.Round(8_000_000, Ms(20), inFlight: 100_000);
            if (bbr.Mode == BbrMode.ProbeRtt)
                break;
        }
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeRtt));
        Assert.That(bbr.MinRtt, Is.EqualTo(Ms(20)), "the expired minimum takes the current RTT");
        Assert.That(bbr.Window, Is.EqualTo(4 * Mss));
        // The flight drains to four segments; then 200 ms and a round.
        d.Round(8_000_000, Ms(20), inFlight: 4 * Mss);
        var entered = d.Now;
        while (bbr.Mode == BbrMode.ProbeRtt && d.Now < entered + Ms(500))
            d.Round(8_000_000, Ms(20), inFlight: 4 * Mss);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw));
        Assert.That(d.Now - entered, Is.InRange(Ms(200), Ms(260)));
        Assert.That(bbr.Window, Is.GreaterThanOrEqualTo(before), "the window from before ProbeRTT is restored");
    }

    [Test]
    public void Recovery_PacketConservationForOneRound_ThenTheModel_ThenThePriorWindow()
    {
        var bbr = new BbrCongestionControl(Mss, 10);
        var d = new Driver(bbr);
        for (int i = 0; i < 12; i++)
            d.Round(1_000_000 * Math.Min(8, 1 << i), Ms(10), inFlight: 80_000);
        int before = bbr.Window;
        Assert.That(before, Is.GreaterThan(100_000));
        bbr.OnCongestionEvent(before, d.Now);
        // The ACK that finds one segment lost: the window is what stays in flight plus what was delivered.
        d.Round(8_000_000, Ms(10), inFlight: before - Mss - 80_000, state: RecoveryState.Recovery, lost: Mss);
        Assert.That(bbr.PacketConservation, Is.True);
        Assert.That(bbr.Window, Is.EqualTo(before - Mss), "no multiplicative decrease: only the lost segment leaves the window");
        // A round later: the model's window again, with no trace of the loss.
        d.Round(8_000_000, Ms(10), inFlight: before - 80_000, state: RecoveryState.Recovery);
        Assert.That(bbr.PacketConservation, Is.False);
        Assert.That(bbr.Window, Is.EqualTo(Math.Min(before - Mss + 80_000, bbr.TargetWindow)));
        d.Round(8_000_000, Ms(10), inFlight: 80_000);
        Assert.That(bbr.Window, Is.GreaterThanOrEqualTo(before), "recovery over: the prior window is restored");
    }

    [Test]
    public void Rto_WindowRestartsAtOneSegment_RegrowsByWhatIsDelivered_PriorRestoredAtTheEnd()
    {
        var bbr = new BbrCongestionControl(Mss, 10);
        var d = new Driver(bbr);
        for (int i = 0; i < 12; i++)
            d.Round(1_000_000 * Math.Min(8, 1 << i), Ms(10), inFlight: 80_000);
        int before = bbr.Window;
        bbr.OnRetransmitTimeout(before, d.Now);
        Assert.That(bbr.Window, Is.EqualTo(Mss));
        d.Round(100_000, Ms(10), inFlight: 0, state: RecoveryState.Loss); // one segment delivered
        Assert.That(bbr.Window, Is.EqualTo(4 * Mss), "at least four segments");
        d.Round(400_000, Ms(10), inFlight: 0, state: RecoveryState.Loss);
        Assert.That(bbr.Window, Is.EqualTo(8 * Mss), "grows by what each ACK delivers");
        Assert.That(bbr.BottleneckBandwidth, Is.EqualTo(8_000_000), "the model survives the timeout");
        d.Round(800_000, Ms(10), inFlight: 0, state: RecoveryState.Open);
        Assert.That(bbr.Window, Is.GreaterThanOrEqualTo(before), "loss state over: the window from before the RTO (and the ACK's growth)");
    }

    // ------------------------------------------------------------------ through a connection

    private static ConnectionHarness Open()
    {
        var h = new ConnectionHarness(Plain with { Sack = true, CongestionControl = CongestionAlgorithm.Bbr });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        return h;
    }

    [Test]
    public void Connection_IsolatedLoss_NoWindowCut_SendingContinuesAtTheDeliveryRate()
    {
        var h = Open();
        h.Conn.Send(new byte[60_000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(10), "initial window of 10 segments");
        h.At(0.2);
        int cwnd = h.Conn.CongestionWindow;
        // 1:1001 lost; every later segment is SACKed, one ACK each.
        var sent = new List<string>();
        for (uint right = 2001; right <= 10001; right += 1000)
        {
            h.In(".", 1, ack: 1, options: Opts(sacks: [(1001, right)]));
            sent.AddRange(h.Out());
        }
        Assert.That(h.Conn.InRecovery, Is.True);
        Assert.That(h.Conn.FastRetransmits, Is.EqualTo(1));
        Assert.That(sent, Does.Contain(". 1:1001(1000) ack 1 win 65535"));
        Assert.That(sent.Count(s => !s.StartsWith(". 1:1001")), Is.GreaterThanOrEqualTo(9),
            "at least one new segment per segment delivered (PRR with NewReno would send half)");
        Assert.That(h.Conn.CongestionWindow, Is.GreaterThanOrEqualTo(cwnd), "no multiplicative decrease");
        Assert.That(h.Conn.SlowStartThreshold, Is.EqualTo(int.MaxValue));

        h.At(0.3);
        h.In(".", 1, ack: h.Conn.SendNext.Value - OurIsn); // everything, the recovery point included
        Assert.That(h.Conn.InRecovery, Is.False);
        Assert.That(h.Conn.CongestionWindow, Is.GreaterThanOrEqualTo(cwnd));
        Assert.That(h.Conn.Timeouts, Is.Zero);
    }

    [Test]
    public void Connection_AfterAnRto_OneSegment_ThenTheWindowRegrows()
    {
        var h = Open();
        h.Conn.Send(new byte[30_000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(10));
        // Nothing comes back: the RTO (300 ms after 0.1 s) resends one segment.
        h.At(0.45);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.4, ". 1:1001(1000) ack 1 win 65535") }));
        Assert.That(h.Conn.Timeouts, Is.EqualTo(1));
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(1000));

        h.In(".", 1, ack: 1001);
        Assert.That(h.Out(), Has.Length.EqualTo(4), "the window floor: four segments, not one per RTT");
        h.Plus(0.01);
        h.In(".", 1, ack: 5001);
        Assert.That(h.Out(), Has.Length.GreaterThanOrEqualTo(8), "then it grows by what each ACK delivers");
        h.Plus(0.01);
        h.In(".", 1, ack: 13001);
        Assert.That(h.Conn.CongestionWindow, Is.GreaterThanOrEqualTo(10_000), "loss state over: the window from before the RTO");
        Assert.That(h.Conn.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void Pacing_SpreadsTheWindowAtThePacingRate_InQuantumBursts()
    {
        var h = new ConnectionHarness(Plain with { Sack = true, CongestionControl = CongestionAlgorithm.Bbr, Pacing = true });
        h.PassiveOpen(synOptions: Opts(mss: 1000, sackOk: true));
        var bbr = (BbrCongestionControl)h.Conn.CongestionControl;
        // The handshake's 100 ms RTT sets the first rate: 2.885 * 10 segments per RTT (Linux
        // bbr_init_pacing_rate_from_rtt); a quantum is two segments at so low a rate.
        Assert.That(bbr.PacingRate, Is.EqualTo(BbrCongestionControl.HighGain * 10_000 / 0.1).Within(1e-6));
        Assert.That(bbr.SendQuantum, Is.EqualTo(2000));
        double gap = 1000 / bbr.PacingRate;     // seconds per segment, about 3.5 ms
        double horizon = bbr.SendQuantum / bbr.PacingRate;

        h.Conn.Send(new byte[30_000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(3), "a quantum's worth ahead of the release time, not the whole initial window");
        Assert.That(h.Conn.NextDeadline!.Value.TotalSeconds, Is.EqualTo(0.1 + 3 * gap - horizon).Within(1e-6));
        h.At(0.15);
        var later = h.OutTimed();
        Assert.That(later, Has.Length.EqualTo(7), "the rest of the initial window, paced");
        Assert.That(later[0].At, Is.EqualTo(0.1 + 3 * gap - horizon).Within(2e-6));
        for (int i = 1; i < later.Length; i++)
            Assert.That(later[i].At - later[i - 1].At, Is.EqualTo(gap).Within(2e-6), $"segment {i}");

        // The ACK of the window (10000 bytes in ~100 ms) opens the window to 20 segments; after a
        // pause the release time is in the past: a quantum goes at once, the rest paced again.
        h.At(0.25);
        h.In(".", 1, ack: 10001);
        Assert.That(bbr.BottleneckBandwidth, Is.GreaterThan(0));
        gap = 1000 / bbr.PacingRate;
        Assert.That(h.Out(), Has.Length.EqualTo(3));
        h.At(0.4);
        later = h.OutTimed();
        Assert.That(later, Has.Length.EqualTo(17));
        for (int i = 1; i < later.Length; i++)
            Assert.That(later[i].At - later[i - 1].At, Is.EqualTo(gap).Within(2e-6), $"segment {i}");
    }
}
