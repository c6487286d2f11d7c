using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Views;

public class TcpOptionSummaryTests
{
    [Test]
    public void ReadsALinuxSyn()
    {
        // mss 1460, sackOK, TS val 12345 ecr 0, nop, wscale 7
        byte[] space = [2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, 1, 3, 3, 7];
        var s = TcpOptionSummary.Read(space);
        Assert.That((s.HasMss, s.Mss, s.SackPermitted, s.HasTimestamps, s.TsValue, s.TsEcho, s.HasWindowScale, s.WindowScale, s.HasMalformed),
            Is.EqualTo((true, (ushort)1460, true, true, 12345u, 0u, true, (byte)7, false)));
    }

    [Test]
    public void ReadsSackBlocksInPlace()
    {
        byte[] space = [1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xF0, 0, 0, 0, 0x10];
        var s = TcpOptionSummary.Read(space);
        Assert.That(s.SackBlockCount, Is.EqualTo(2));
        Assert.That(s.TryGetSackBlock(space, 1, out var l, out var r), Is.True);
        Assert.That((l.Value, r.Value), Is.EqualTo((0xFFFFFFF0u, 0x10u)));
        Assert.That(s.TryGetSackBlock(space, 2, out _, out _), Is.False);
    }

    [TestCase(new byte[] { 2, 0 }, TestName = "LengthZeroIsMalformed")]
    [TestCase(new byte[] { 2, 1, 1, 1 }, TestName = "LengthOneIsMalformed")]
    [TestCase(new byte[] { 2, 40, 5, 0xB4 }, TestName = "RunningPastTheSpaceIsMalformed")]
    [TestCase(new byte[] { 1, 2 }, TestName = "NoLengthByteIsMalformed")]
    [TestCase(new byte[] { 2, 3, 5 }, TestName = "WrongMssLengthIsMalformed")]
    public void MalformedOptionsAreFlaggedAndNotRead(byte[] space)
    {
        var s = TcpOptionSummary.Read(space);
        Assert.That(s.HasMalformed, Is.True);
        Assert.That(s.HasMss, Is.False);
    }

    [Test]
    public void StopsAtEndOfOptionList()
    {
        byte[] space = [0, 2, 4, 5, 0xB4];
        Assert.That(TcpOptionSummary.Read(space).HasMss, Is.False);
    }
}
