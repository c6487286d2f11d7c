namespace TcpExposure.Stateful.Tests;

/// <summary>
/// The congestion window never wraps: a transfer limited by the receive window never loses, so a
/// loss-based window only grows, one MSS per ACK in slow start; past 2^31 bytes of ACKs an int
/// window went negative and the connection stopped sending for good.
/// </summary>
public sealed class CongestionWindowTests
{
    private const int Mss = 1448;

    [TestCase(CongestionAlgorithm.NewReno)]
    [TestCase(CongestionAlgorithm.Cubic)]
    [TestCase(CongestionAlgorithm.Bbr)]
    public void SixGigabytesOfAcksLeaveTheWindowPositiveAndAtMostTheCap(CongestionAlgorithm algorithm)
    {
        var cc = CongestionControlFactory.Create(algorithm, Mss, 10);
        var now = TimeSpan.Zero;
        for (int i = 0; i < 4_500_000; i++) // 4.5 M x 1448 B = 6.5 GB, more than 2^32
        {
            now += TimeSpan.FromMicroseconds(10);
            cc.OnAck(Mss, cc.Window, now, TimeSpan.FromMilliseconds(1));
            if (cc.Window <= 0)
                Assert.Fail($"window {cc.Window} after {i + 1} ACKs");
        }
        Assert.That(cc.Window, Is.InRange(Mss, ICongestionControl.MaxWindow));
        if (algorithm != CongestionAlgorithm.Bbr) // BBR's window follows its model (no rate samples here), not ACK counts
            Assert.That(cc.Window, Is.EqualTo(ICongestionControl.MaxWindow).Within(Mss), "grew to the cap and stayed");
    }

    [TestCase(CongestionAlgorithm.NewReno)]
    [TestCase(CongestionAlgorithm.Cubic)]
    [TestCase(CongestionAlgorithm.Bbr)]
    public void SettingAHugeWindowIsClamped(CongestionAlgorithm algorithm)
    {
        var cc = CongestionControlFactory.Create(algorithm, Mss, 10);
        cc.Window = int.MaxValue;
        Assert.That(cc.Window, Is.EqualTo(ICongestionControl.MaxWindow));
        Assert.That(cc.Window + 64 * Mss, Is.Positive, "room for the connection's window arithmetic");
    }
}
