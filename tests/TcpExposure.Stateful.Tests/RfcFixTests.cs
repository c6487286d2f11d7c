using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// Reviewer-found RFC defects, each pinned by feeding segments at virtual times and checking
/// exactly what comes out: the FIN-WAIT-2 timeout, ACKs on a zero receive window, a scaled
/// window that must not shrink, an RTO into a zero send window, and cwnd near int.MaxValue.
/// </summary>
public class RfcFixTests
{
    [Test]
    public void FinWait2_AfterClose_ClosesWhenThePeerNeverSendsItsFin()
    {
        var h = new ConnectionHarness(Plain with { FinWait2Timeout = TimeSpan.FromSeconds(60) });
        h.PassiveOpen();
        h.Conn.Close(h.Now);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.1, "F. 1:1(0) ack 1 win 65535") }));
        h.At(0.2);
        h.In(".", 1, ack: 2);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(60.2)), "the one deadline is the FIN-WAIT-2 timer");
        h.At(60.19);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        h.At(60.2);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.None));
        Assert.That(h.Out(), Is.Empty, "the connection goes silently, as Linux's orphan does");
        Assert.That(h.Conn.NextDeadline, Is.Null);
    }

    [Test]
    public void FinWait2_AfterShutdown_WaitsForThePeerUntilClose()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Shutdown(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 1 win 65535" }));
        h.In(".", 1, ack: 2);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(h.Conn.NextDeadline, Is.Null, "a half-closed connection still reads: no timer");
        h.At(1000);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        h.In("P.", 1, 10, ack: 2);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:2(0) ack 11 win 65525" }));
        h.Conn.Close(h.Now);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(1060)));
        h.At(1060);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
    }

    [Test]
    public void FinWait2_PeerFinBeforeTheTimeout_GoesToTimeWait()
    {
        var h = new ConnectionHarness(Plain with { TimeWait = TimeSpan.FromSeconds(10) });
        h.PassiveOpen();
        h.Conn.Close(h.Now);
        h.In(".", 1, ack: 2);
        h.At(30);
        h.In("F.", 1, ack: 2);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 1 win 65535", ". 2:2(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(40)), "TIME-WAIT only, the FIN-WAIT-2 timer is gone");
    }

    /// <summary>Our 4000-byte buffer filled by the peer while 1000 bytes of ours are in flight.</summary>
    private static ConnectionHarness ZeroReceiveWindow()
    {
        var h = new ConnectionHarness(Plain with { ReceiveBufferSize = 4000 });
        h.PassiveOpen();
        h.Conn.Send(new byte[1000], h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:1001(1000) ack 1 win 4000" }));
        for (uint s = 1; s < 4001; s += 1000)
            h.In(".", s, 1000, ack: 1);
        Assert.That(h.Out().Last(), Is.EqualTo(". 1001:1001(0) ack 4001 win 0"));
        return h;
    }

    [Test]
    public void ZeroReceiveWindow_AckOnADataSegmentAtRcvNxt_IsProcessed_PayloadDropped()
    {
        var h = ZeroReceiveWindow();
        h.Plus(0.01);
        h.In("P.", 4001, 10, ack: 1001);
        Assert.That(h.Conn.SendUnacknowledged.Value - OurIsn, Is.EqualTo(1001u), "the ACK was taken");
        Assert.That(h.Conn.SendQueued, Is.Zero);
        Assert.That(h.Conn.NextDeadline, Is.Null, "nothing outstanding: no retransmission timer");
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:1001(0) ack 4001 win 0" }), "payload dropped, zero window repeated");
        Assert.That(h.Conn.BytesAvailable, Is.EqualTo(4000));
        h.At(5);
        Assert.That(h.Out(), Is.Empty, "no retransmission of the acknowledged segment");
    }

    [Test]
    public void ZeroReceiveWindow_BareFinAtRcvNxt_IsAccepted()
    {
        var h = ZeroReceiveWindow();
        h.In("F.", 4001, ack: 1001);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.CloseWait));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:1001(0) ack 4002 win 0" }));
    }

    [Test]
    public void ZeroReceiveWindow_FinAfterData_IsDroppedWithTheData()
    {
        var h = ZeroReceiveWindow();
        h.In("F.", 4001, 5, ack: 1001);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.SendUnacknowledged.Value - OurIsn, Is.EqualTo(1001u));
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:1001(0) ack 4001 win 0" }));
    }

    [Test]
    public void ZeroReceiveWindow_RstWithTextAtRcvNxt_Resets()
    {
        var h = ZeroReceiveWindow();
        h.In("R.", 4001, 5, ack: 1001);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.ConnectionReset));
        Assert.That(h.Out(), Is.Empty);
    }

    [Test]
    public void ZeroReceiveWindow_DataBeyondRcvNxt_StaysUnacceptable()
    {
        var h = ZeroReceiveWindow();
        h.In("P.", 4002, 10, ack: 1001);
        Assert.That(h.Conn.SendUnacknowledged.Value - OurIsn, Is.EqualTo(1u), "RFC 9293: not acceptable, ACK not processed");
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1001:1001(0) ack 4001 win 0" }));
    }

    /// <summary>A 300000-byte buffer with window scaling: shift 3, the window field counts 8-byte units.</summary>
    private static ConnectionHarness Scaled()
    {
        var h = new ConnectionHarness(Plain with { ReceiveBufferSize = 300_000, WindowScaling = true });
        h.PassiveOpen(synOptions: Opts(mss: 1000, wscale: 0));
        Assert.That(h.Conn.ReceiveShift, Is.EqualTo(3));
        return h;
    }

    [Test]
    public void WindowScaling_OddSegment_RoundsTheWindowUpInsteadOfShrinkingIt()
    {
        var h = Scaled();
        h.In(".", 1, 1000, ack: 1);
        // 299000 free: 37375 units exactly (edge 300001, as after the handshake).
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1001 win 37375" }));
        h.In(".", 1001, 1, ack: 1);
        // 298999 free: rounded up, 37375 units (299000, edge 300002); rounded down, 37374
        // (298992, edge 299994) would move the edge left by 7.
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 1002 win 37375" }));
    }

    [Test]
    public void WindowScaling_RightEdgeNeverMovesLeft_AndEverythingOfferedIsAccepted()
    {
        var h = Scaled();
        uint nxt = 1;
        long lastEdge = 0;
        int segments = 0;
        int len = 997; // odd sizes: every ACK's window falls between two units
        while (true)
        {
            h.Plus(0.001);
            h.In(".", nxt, len, ack: 1);
            nxt += (uint)len;
            segments++;
            var ack = h.OutRaw().Last();
            long edge = (ack.Ack - PeerIsn) + ((long)ack.Window << 3);
            Assert.That(edge, Is.GreaterThanOrEqualTo(lastEdge), $"right edge moved left after {segments} segments");
            Assert.That(ack.Ack - PeerIsn, Is.EqualTo(nxt), "every byte offered was taken");
            lastEdge = edge;
            int room = (int)(edge - nxt);
            if (room == 0)
                break;
            len = Math.Min(room, 997);
        }
        Assert.That(h.Conn.BytesAvailable, Is.EqualTo((int)nxt - 1));
        Assert.That(h.Conn.BytesAvailable, Is.InRange(300_000, 300_000 + 300_000 / 16), "past the buffer by the rounding up only");
        var buf = new byte[nxt];
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo((int)nxt - 1));
        Assert.That(buf.AsSpan(0, 997).ToArray(), Is.EqualTo(Pattern(1, 997)));
        Assert.That(buf.AsSpan((int)nxt - 1 - 100, 100).ToArray(), Is.EqualTo(Pattern(nxt - 100, 100)));
    }

    [Test]
    public void Rto_WithThePeerWindowShrunkToZero_RetransmitsTheFirstSegmentAnyway()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Send(new byte[3000], h.Now);
        Assert.That(h.Out(), Has.Length.EqualTo(3));
        h.At(0.15);
        h.In(".", 1, ack: 1001, win: 0);   // 1001:3001 outstanding, and the window shrinks to zero
        Assert.That(h.Conn.SendWindow, Is.Zero);
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(0.45)));
        h.At(0.45);
        Assert.That(h.OutTimed(), Is.EqualTo(new[] { (0.45, ". 1001:2001(1000) ack 1 win 65535") }),
            "the RTO resends the first unacknowledged segment regardless of the window");
        h.At(0.5);
        h.In(".", 1, ack: 2001, win: 0);  // the peer took it after all; 2001:3001 still outstanding
        h.At(3);
        Assert.That(h.Out(), Has.Some.EqualTo("P. 2001:3001(1000) ack 1 win 65535"));
        h.In(".", 1, ack: 3001, win: 65535);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.SendQueued, Is.Zero);
    }

    [Test]
    public void Rto_WithTheWindowShrunkToZero_KeepsTheConnectionPastTheUserTimeoutWhileThePeerAnswers()
    {
        var h = new ConnectionHarness(Plain with { UserTimeout = TimeSpan.FromSeconds(10) });
        h.PassiveOpen();
        h.Conn.Send(new byte[3000], h.Now);
        h.At(0.15);
        h.In(".", 1, ack: 1001, win: 0);
        h.Out();
        uint una = 1001;
        for (int round = 0; round < 6; round++) // the backed-off RTO stays under the user timeout until then
        {
            Assert.That(h.Conn.NextDeadline, Is.Not.Null, $"round {round}: a timer runs");
            h.AdvanceTo(h.Conn.NextDeadline!.Value);
            Assert.That(h.Out(), Has.Some.Matches($"^P?\\. {una}:"), $"round {round}: the RTO resends from SND.UNA");
            // A peer that takes part of each segment and keeps its window at zero.
            una += 100;
            h.In(".", 1, ack: una, win: 0);
        }
        Assert.That(h.Now, Is.GreaterThan(TimeSpan.FromSeconds(10)), "longer than the user timeout");
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established), "the peer answered: no user timeout");
        h.In(".", 1, ack: 2501, win: 65535);  // the last retransmission (1501:2501) whole, and the window opens
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 2501:3001(500) ack 1 win 65535" }));
        h.In(".", 1, ack: 3001, win: 65535);
        Assert.That(h.Conn.SendQueued, Is.Zero);
    }

    [Test]
    public void LimitedTransmit_WithCwndNearIntMaxValue_DoesNotWrapTheBudgetNegative()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen();
        h.Conn.Send(new byte[100], h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:101(100) ack 1 win 65535" }));
        h.Conn.CongestionControl.Window = int.MaxValue - 100; // as after a long unbounded slow start
        h.Plus(0.05);
        h.In(".", 1, ack: 1);   // a first duplicate ACK: Limited Transmit adds a segment to the budget
        Assert.That(h.Out(), Is.Empty);
        h.Conn.Send(new byte[1000], h.Now);
        // cwnd + 1000 - 100 in int wraps to a negative budget, and nothing went.
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 101:1101(1000) ack 1 win 65535" }));
    }
}
