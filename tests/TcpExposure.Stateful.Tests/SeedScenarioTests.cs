using static TcpExposure.Stateful.Tests.ConnectionHarness;

namespace TcpExposure.Stateful.Tests;

/// <summary>The packetdrill scripts of seed 001, replayed against our connection on a virtual clock.</summary>
public class SeedScenarioTests
{
    [Test]
    public void ConnectPkt_HandshakeWriteReadPeerCloseThenClose()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Listen();
        h.In("S", 0, win: 1000, options: Opts(mss: 1000));
        Assert.That(h.Out(), Is.EqualTo(new[] { "S. 0:0(0) ack 1 win 65535 <mss 1000>" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynReceived));

        h.Plus(0.1);
        h.In(".", 1, ack: 1, win: 1000);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));

        Assert.That(h.Conn.Send(new byte[10], h.Now), Is.EqualTo(10));
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:11(10) ack 1 win 65535" }));
        h.Plus(0.1);
        h.In(".", 1, ack: 11, win: 1000);
        Assert.That(h.Out(), Is.Empty);

        h.Plus(0.1);
        h.In("P.", 1, 2, ack: 11, win: 4000);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 11:11(0) ack 3 win 65533" }));
        h.Plus(0.2);
        var buf = new byte[1000];
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo(2));
        Assert.That(buf[..2], Is.EqualTo(Pattern(1, 2)));

        h.In("F.", 3, ack: 11, win: 4000);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 11:11(0) ack 4 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.CloseWait));
        Assert.That(h.Conn.ReceiveFinished, Is.True);

        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 11:11(0) ack 4 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.LastAck));
        h.In(".", 4, ack: 12, win: 4000);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.None));
        Assert.That(h.Out(), Is.Empty);
    }

    [Test]
    public void OutOfOrder_200_20_Fin_30_ReadsInOrder()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen(win: 4000);

        h.In("P.", 1, 200, ack: 1, win: 4000);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335" }));
        h.In("P.", 231, 20, ack: 1, win: 4000);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65335" }), "a hole: duplicate ACK for 201");

        // Seed question a: only the 200 in-order bytes can be read.
        var buf = new byte[250];
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo(200));
        Assert.That(buf[..200], Is.EqualTo(Pattern(1, 200)));

        // Seed question b: the FIN after the hole is acknowledged as 201, no FIN of ours.
        h.In("F.", 251, ack: 1, win: 257);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 201 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));

        // Seed question c: the missing 30 bytes fill the hole; the stored FIN is taken too.
        h.In("P.", 201, 30, ack: 1, win: 4000);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 252 win 65485" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.CloseWait));
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo(50));
        Assert.That(buf[..50], Is.EqualTo(Pattern(201, 50)));
        Assert.That(h.Conn.ReceiveFinished, Is.True);
    }

    [Test]
    public void OutOfOrder_WithoutIntermediateRead_Reads250()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen(win: 4000);
        h.In("P.", 1, 200, ack: 1, win: 4000);
        h.In("P.", 231, 20, ack: 1, win: 4000);
        h.In("F.", 251, ack: 1, win: 257);
        h.In(".", 201, 30, ack: 1, win: 4000);
        Assert.That(h.Out().Last(), Is.EqualTo(". 1:1(0) ack 252 win 65285"));
        var buf = new byte[250];
        Assert.That(h.Conn.Receive(buf, h.Now), Is.EqualTo(250));
        Assert.That(buf, Is.EqualTo(Pattern(1, 250)));
    }

    [Test]
    public void RetransmissionTimeout_BacksOff_0_3_0_6_1_2()
    {
        var h = new ConnectionHarness(Plain);
        h.PassiveOpen(win: 4000);  // handshake RTT 0.1 s: SRTT 0.1, RTTVAR 0.05, RTO 0.3
        Assert.That(h.Conn.RetransmissionTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(300)));

        h.Conn.Send(new byte[1000], h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "P. 1:1001(1000) ack 1 win 65535" }));
        h.Plus(0.1);
        h.In(".", 1, ack: 1001, win: 4000);
        // Second sample: RTTVAR 0.0375 -> 0.25 s, clamped to the 0.3 s minimum.
        Assert.That(h.Conn.RetransmissionTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(300)));

        h.Conn.Send(new byte[2000], h.Now);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.2, ". 1001:2001(1000) ack 1 win 65535"),
            (0.2, "P. 2001:3001(1000) ack 1 win 65535"),
        }));
        h.At(4.8);
        Assert.That(h.OutTimed(), Is.EqualTo(new[]
        {
            (0.5, ". 1001:2001(1000) ack 1 win 65535"),  // +0.3
            (1.1, ". 1001:2001(1000) ack 1 win 65535"),  // +0.6
            (2.3, ". 1001:2001(1000) ack 1 win 65535"),  // +1.2
            (4.7, ". 1001:2001(1000) ack 1 win 65535"),  // +2.4
        }));
        Assert.That(h.Conn.Retransmissions, Is.EqualTo(4));
        Assert.That(h.Conn.CongestionWindow, Is.EqualTo(1000), "loss window: one segment");
    }

    [Test]
    public void SimultaneousOpen_ThenPeerClosesFirst()
    {
        var h = new ConnectionHarness(Plain);
        h.Conn.Connect(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "S 0:0(0) win 65535 <mss 1000>" }));
        h.In("S", 0, win: 5792, options: Opts(mss: 1000));
        Assert.That(h.Out(), Is.EqualTo(new[] { "S. 0:0(0) ack 1 win 65535 <mss 1000>" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.SynReceived));
        h.In(".", 1, ack: 1, win: 5792);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));

        h.In("F.", 1, ack: 1, win: 5792);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.CloseWait));
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 2 win 65535" }));
        h.In(".", 2, ack: 2, win: 5792);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
    }

    private static ConnectionHarness ReleaseSetup()
    {
        // "< S 0:0(0) win 1000" without MSS: the peer's MSS defaults to 536.
        var h = new ConnectionHarness(Plain);
        h.Conn.Listen();
        h.In("S", 0, win: 1000);
        Assert.That(h.Out(), Is.EqualTo(new[] { "S. 0:0(0) ack 1 win 65535 <mss 1000>" }));
        h.Plus(0.1);
        h.In(".", 1, ack: 1, win: 1000);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Established));
        Assert.That(h.Conn.PeerMss, Is.EqualTo(536));
        return h;
    }

    [Test]
    public void Release1_CloseThenPeerFinCrossing_Closing_TimeWait()
    {
        var h = ReleaseSetup();
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 1 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait1));
        h.In("F.", 1, ack: 1, win: 257);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:2(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closing));
        h.In(".", 2, ack: 2, win: 257);
        Assert.That(h.Out(), Is.Empty);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void Release2_CloseAckThenPeerFin_FinWait2_TimeWait()
    {
        var h = ReleaseSetup();
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 1 win 65535" }));
        h.In(".", 1, ack: 2, win: 257);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(h.Out(), Is.Empty);
        h.In("F.", 1, ack: 2, win: 257);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:2(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void Release3_PeerFinFirst_CloseWait_LastAck_Closed()
    {
        var h = ReleaseSetup();
        h.In("F.", 1, ack: 1, win: 257);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 1:1(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.CloseWait));
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.LastAck));
        h.In(".", 2, ack: 2, win: 257);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Out(), Is.Empty);
    }

    [Test]
    public void Release4_CloseThenFinAckingOurFin_StraightToTimeWait()
    {
        var h = ReleaseSetup();
        h.Conn.Close(h.Now);
        Assert.That(h.Out(), Is.EqualTo(new[] { "F. 1:1(0) ack 1 win 65535" }));
        h.In("F.", 1, ack: 2, win: 257);
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:2(0) ack 2 win 65535" }));
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void TimeWait_ExpiresAfter2Msl_AndRetransmittedFinRestartsIt()
    {
        var h = new ConnectionHarness(Plain with { TimeWait = TimeSpan.FromSeconds(4) });
        h.PassiveOpen();
        h.Conn.Close(h.Now);
        h.In("F.", 1, ack: 2);
        h.Out();
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(4.1)));

        h.At(3);
        h.In("F.", 1, ack: 2);   // our ACK was lost: the peer resends its FIN
        Assert.That(h.Out(), Is.EqualTo(new[] { ". 2:2(0) ack 2 win 65535" }));
        Assert.That(h.Conn.NextDeadline, Is.EqualTo(TimeSpan.FromSeconds(7)));
        h.At(6.999);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.TimeWait));
        h.At(7);
        Assert.That(h.Conn.State, Is.EqualTo(TcpState.Closed));
        Assert.That(h.Conn.Error, Is.EqualTo(TcpError.None));
        Assert.That(h.Out(), Is.Empty);
    }
}
