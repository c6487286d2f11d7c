using System.Security.Cryptography;

namespace TcpExposure.Stateful.Tests;

/// <summary>Deterministic whole-transfer runs of two connections on one virtual clock.</summary>
public class SimulationTests
{
    private static (byte[] Received, ConnectionPairSimulation Sim) Transfer(TcpConfig cfg, byte[] file, ILossModel toServer, ILossModel toClient,
        TimeSpan? oneWayDelay = null)
    {
        var sim = new ConnectionPairSimulation(cfg) { LossToServer = toServer, LossToClient = toClient };
        if (oneWayDelay is { } owd)
            sim.OneWayDelay = owd;
        var received = new MemoryStream();
        int written = 0;
        bool closed = false;
        var buf = new byte[65536];
        sim.Client.Connect(sim.Now);
        sim.Run(
            () => sim.Client.ReceiveFinished && sim.Server.State is TcpState.Closed or TcpState.FinWait2 or TcpState.TimeWait,
            () =>
            {
                if (sim.Server.State is TcpState.Established or TcpState.CloseWait && written < file.Length)
                    written += sim.Server.Send(file.AsSpan(written), sim.Now);
                if (written == file.Length && !closed && sim.Server.State is TcpState.Established or TcpState.CloseWait)
                {
                    sim.Server.Close(sim.Now);
                    closed = true;
                }
                int n;
                while ((n = sim.Client.Receive(buf, sim.Now)) > 0)
                    received.Write(buf, 0, n);
            },
            TimeSpan.FromMinutes(30));
        return (received.ToArray(), sim);
    }

    [TestCase(CongestionAlgorithm.NewReno, true, 7)]
    [TestCase(CongestionAlgorithm.NewReno, false, 7)]
    [TestCase(CongestionAlgorithm.Cubic, true, 7)]
    [TestCase(CongestionAlgorithm.NewReno, true, 0)]
    [TestCase(CongestionAlgorithm.Cubic, true, 0)]
    [TestCase(CongestionAlgorithm.Bbr, true, 7)]
    [TestCase(CongestionAlgorithm.Bbr, false, 7)]
    [TestCase(CongestionAlgorithm.Bbr, true, 0)]
    public void OneMegabyte_DeterministicLossyTransfer_IsExact(CongestionAlgorithm cc, bool sack, int nth)
    {
        var cfg = new TcpConfig { Sack = sack, CongestionControl = cc };
        var file = new byte[1 << 20];
        new Random(7).NextBytes(file);
        ILossModel Loss(int salt) => nth > 0 ? new DropEveryNth(nth) : new RandomLoss(0.10, 5 + salt);
        var (received, sim) = Transfer(cfg, file, Loss(1), Loss(2));
        Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(file)));
        Assert.That(sim.Dropped, Is.GreaterThan(50));
        var s = sim.Server;
        TestContext.Out.WriteLine($"{cc} sack={sack} nth={nth}: dropped {sim.Dropped}, {s.Retransmissions} retransmissions " +
            $"({s.Timeouts} timeouts, {s.FastRetransmits} fast retransmits), virtual {sim.Now.TotalSeconds:0.###} s");
    }

    [Test]
    public void OneMegabyte_Lossless_FinishesInFewRoundTrips()
    {
        var file = new byte[1 << 20];
        var (received, sim) = Transfer(new TcpConfig(), file, new NoLoss(), new NoLoss());
        Assert.That(received, Is.EqualTo(file));
        Assert.That(sim.Server.Retransmissions, Is.Zero);
        // 10 ms RTT, slow start from 10 segments up to the 256 KB window: well under a second.
        Assert.That(sim.Now, Is.LessThan(TimeSpan.FromSeconds(0.5)));
    }

    [Test]
    public void FiveMegabytes_FivePercentLossEachWay_ShortPath_RackRepairsWithoutTimeouts()
    {
        // 0.1 ms RTT, 200 ms min RTO: every RTO costs thousands of round trips.
        var file = new byte[5 << 20];
        new Random(3).NextBytes(file);
        (TcpConnection Server, TimeSpan Took) Run(bool rack)
        {
            var (received, sim) = Transfer(new TcpConfig { Rack = rack }, file, new RandomLoss(0.05, 11), new RandomLoss(0.05, 12),
                TimeSpan.FromMilliseconds(0.05));
            Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(file)));
            var s = sim.Server;
            TestContext.Out.WriteLine($"rack={rack}: dropped {sim.Dropped}, {s.Retransmissions} retransmissions ({s.Timeouts} timeouts, " +
                $"{s.FastRetransmits} recoveries, {s.TailLossProbes} TLPs, {s.RackLostBytes} bytes RACK-lost, {s.SpuriousRecoveriesUndone} undone), virtual {sim.Now.TotalSeconds:0.###} s");
            return (s, sim.Now);
        }
        var rack = Run(rack: true);
        var dupThresh = Run(rack: false);
        Assert.That(rack.Server.Timeouts, Is.Zero);
        Assert.That(dupThresh.Server.Timeouts, Is.GreaterThan(0), "the RFC 6675 path does time out on this loss pattern");
        Assert.That(rack.Took, Is.LessThan(dupThresh.Took));
    }

    [Test]
    public void FiveMegabytes_FivePercentLossEachWay_TwoMsPath_BbrKeepsItsWindow()
    {
        // The benchmark's situation on the virtual clock: random loss on a 2 ms path. NewReno
        // halves its window at every loss episode; BBR keeps the model's window, so it needs far
        // fewer round trips and far fewer separate recoveries for the same losses.
        var file = new byte[5 << 20];
        new Random(3).NextBytes(file);
        (TcpConnection Server, TimeSpan Took) Run(CongestionAlgorithm cc)
        {
            var (received, sim) = Transfer(new TcpConfig { CongestionControl = cc }, file, new RandomLoss(0.05, 11), new RandomLoss(0.05, 12),
                TimeSpan.FromMilliseconds(1));
            Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(file)));
            var s = sim.Server;
            TestContext.Out.WriteLine($"{cc}: dropped {sim.Dropped}, {s.Retransmissions} retransmissions ({s.Timeouts} timeouts, " +
                $"{s.FastRetransmits} recoveries, {s.TailLossProbes} TLPs), cwnd at the end {s.CongestionWindow}, virtual {sim.Now.TotalSeconds:0.###} s");
            return (s, sim.Now);
        }
        var reno = Run(CongestionAlgorithm.NewReno);
        var bbr = Run(CongestionAlgorithm.Bbr);
        Assert.That(bbr.Server.Timeouts, Is.Zero);
        Assert.That(bbr.Server.FastRetransmits, Is.LessThan(reno.Server.FastRetransmits / 4), "recoveries merge: the window stays large");
        Assert.That(bbr.Took, Is.LessThan(reno.Took / 2));
        var model = (BbrCongestionControl)bbr.Server.CongestionControl;
        Assert.That(model.Mode, Is.EqualTo(BbrMode.ProbeBw).Or.EqualTo(BbrMode.Startup).Or.EqualTo(BbrMode.Drain));
        Assert.That(model.MinRtt, Is.EqualTo(TimeSpan.FromMilliseconds(2)), "RTprop: the path's round trip");
    }
}
