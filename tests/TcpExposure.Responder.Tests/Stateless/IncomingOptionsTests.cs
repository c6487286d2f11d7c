using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Responder.Tests.Stateless;

/// <summary>The responder's reading of an option space, which walks it with <see cref="TcpOptionSummary"/>.</summary>
public sealed class IncomingOptionsTests
{
    private static byte[] Space(params TcpOption[] options)
    {
        var b = new byte[options.Sum(o => o.Length)];
        int at = 0;
        foreach (var o in options)
        {
            o.Write(b.AsSpan(at));
            at += o.Length;
        }
        return b;
    }

    [Test]
    public void TimestampAndLegacyMpDataAreRead()
    {
        var space = Space(new NopOption(), new NopOption(), new TimestampsOption(0x01020304, 9), new LegacyMpDataOption(1000, 512, 77));
        var o = IncomingOptions.Read(space, MptcpDialect.Auto);
        var got = (o.HasTimestamp, o.TsVal, o.HasLegacyMpData, o.LegacyDsn, o.LegacyDataLength, Mptcp: o.HasLegacyMpCapable || o.HasDssMapping || !o.RfcMpCapable.IsEmpty);
        Assert.That(got, Is.EqualTo((true, 0x01020304u, true, 1000u, (ushort)512, false)));
        var s = TcpOptionSummary.Read(space);
        Assert.That((s.HasLegacyMpData, s.LegacyMpDsn, s.LegacyMpDataLength, s.LegacyMpSubflowSeq, s.MptcpCount), Is.EqualTo((true, 1000u, (ushort)512, 77u, (byte)0)));
    }

    [TestCase(MptcpDialect.Auto, true)]
    [TestCase(MptcpDialect.Legacy, true)]
    [TestCase(MptcpDialect.Rfc8684, false)]
    public void LegacyMpCapableFollowsTheDialect(MptcpDialect dialect, bool legacy)
    {
        var o = IncomingOptions.Read(Space(new LegacyMpCapableOption(0x01020304, 5)), dialect);
        Assert.That(o.HasLegacyMpCapable, Is.EqualTo(legacy));
    }

    [Test]
    public void ARemoveAddrOfElevenIdsIsNotTakenForLegacyMpCapable()
    {
        // 14 bytes like the draft MP_CAPABLE; the responder and the codec must read it alike.
        byte[] space = [30, 14, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        Assert.That(TcpOptionParser.Parse(space, MptcpDialect.Auto).Single(), Is.InstanceOf<RemoveAddrOption>());
        Assert.That(IncomingOptions.Read(space, MptcpDialect.Auto).HasLegacyMpCapable, Is.False);
        Assert.That(IncomingOptions.Read(space, MptcpDialect.Legacy).HasLegacyMpCapable, Is.True);
    }

    [Test]
    public void TwoMptcpOptionsAreBothRead()
    {
        // An RFC MP_CAPABLE (20 bytes) and a DSS mapping (14) share the space.
        var mpc = new MpCapableOption(1, 0x01, 0x1111111111111111, 0x2222222222222222);
        var dss = new DssOption { Dsn = 0x10000, SubflowSeq = 1, DataLevelLength = 100 };
        var space = Space(mpc, dss);
        var s = TcpOptionSummary.Read(space);
        Assert.That(s.MptcpCount, Is.EqualTo((byte)2));
        Assert.That(s.GetMptcpOption(space, 0).ToArray(), Is.EqualTo(mpc.ToBytes()));
        Assert.That(s.GetMptcpOption(space, 1).ToArray(), Is.EqualTo(dss.ToBytes()));
        Assert.That(s.GetMptcpOption(space, 2).IsEmpty, Is.True);
        var o = IncomingOptions.Read(space, MptcpDialect.Auto);
        Assert.That(o.RfcMpCapable.ToArray(), Is.EqualTo(mpc.ToBytes()));
        var got = (o.HasDssMapping, o.DssDsn, o.DssDataLength, o.HasLegacyMpCapable);
        Assert.That(got, Is.EqualTo((true, 0x10000ul, (ushort)100, false)));
    }

    [Test]
    public void MalformedOptionsAreIgnoredNotThrown()
    {
        // A timestamp of the wrong length, an MP_DATA of the wrong length, a kind-30 with no data,
        // then a length byte running past the end.
        byte[] space = [8, 6, 1, 2, 3, 4, 31, 4, 0, 1, 30, 2, 1, 1, 30, 40, 0, 0];
        var o = IncomingOptions.Read(space, MptcpDialect.Auto);
        bool any = o.HasTimestamp || o.HasLegacyMpData || o.HasLegacyMpCapable || o.HasDssMapping || !o.RfcMpCapable.IsEmpty;
        Assert.That(any, Is.False);
        Assert.That(TcpOptionSummary.Read(space).HasMalformed, Is.True);
        for (int cut = 0; cut <= space.Length; cut++)
        {
            int n = cut;
            Assert.DoesNotThrow(() => _ = IncomingOptions.Read(space.AsSpan(0, n), MptcpDialect.Auto).HasTimestamp);
        }
    }

    [Test]
    public void ReadingAllocatesNothing()
    {
        var space = Space(new TimestampsOption(1, 2), new MpCapableOption(1, 0x01, 0x1111111111111111, 0x2222222222222222));
        long sum = 0;
        for (int i = 0; i < 1000; i++)
            sum += IncomingOptions.Read(space, MptcpDialect.Auto).TsVal;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
            sum += IncomingOptions.Read(space, MptcpDialect.Auto).RfcMpCapable.Length;
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(sum, Is.GreaterThan(0));
    }
}
