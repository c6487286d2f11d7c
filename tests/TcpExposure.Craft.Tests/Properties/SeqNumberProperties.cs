using FsCheck;
using FsCheck.Fluent;
using TcpExposure.Craft.Wire;
using static TcpExposure.Craft.Tests.Properties.Generators;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>Modulo-2^32 sequence arithmetic and comparison laws (RFC 9293 3.4).</summary>
public class SeqNumberProperties
{
    // Distances strictly inside (-2^31, 2^31): where comparison is defined.
    private static readonly Gen<int> Distance = U32.Select(u => (int)u).Where(d => d != int.MinValue);

    [Test]
    public void AddingThenSubtractingIsIdentity() => PropertyCheck.Holds(Z(U32, Distance), t =>
    {
        SeqNumber a = t.Item1;
        Assert.That((a + t.Item2) - a, Is.EqualTo(t.Item2));
        Assert.That((a + t.Item2) - t.Item2, Is.EqualTo(a));
        Assert.That(a + (uint)t.Item2, Is.EqualTo(a + t.Item2));
    }, 1000);

    [Test]
    public void ComparisonFollowsSignedDistance() => PropertyCheck.Holds(Z(U32, Distance), t =>
    {
        SeqNumber a = t.Item1, b = a + t.Item2;
        int d = t.Item2;
        Assert.That(b > a, Is.EqualTo(d > 0));
        Assert.That(b < a, Is.EqualTo(d < 0));
        Assert.That(b == a, Is.EqualTo(d == 0));
        Assert.That(b >= a, Is.EqualTo(d >= 0));
        Assert.That(b <= a, Is.EqualTo(d <= 0));
        Assert.That(a < b, Is.EqualTo(b > a), "antisymmetry");
        Assert.That(Math.Sign(b.CompareTo(a)), Is.EqualTo(Math.Sign(d)));
        Assert.That(SeqNumber.Max(a, b), Is.EqualTo(d >= 0 ? b : a));
        Assert.That(SeqNumber.Min(a, b), Is.EqualTo(d >= 0 ? a : b));
    }, 1000);

    [Test]
    public void InRangeIsHalfOpenAcrossTheWrap() => PropertyCheck.Holds(Z(U32, Gen.Choose(1, int.MaxValue), U32), t =>
    {
        SeqNumber start = t.Item1, end = start + t.Item2;
        SeqNumber x = t.Item3;
        long offset = (uint)(x.Value - start.Value);
        Assert.That(x.InRange(start, end), Is.EqualTo(offset < t.Item2));
        Assert.That(start.InRange(start, end), Is.True);
        Assert.That(end.InRange(start, end), Is.False);
    }, 1000);

    [Test]
    public void WrapsAtTwoToTheThirtyTwo()
    {
        SeqNumber top = uint.MaxValue;
        Assert.That((top + 1).Value, Is.EqualTo(0u));
        Assert.That(top + 1 > top, Is.True);
        Assert.That(new SeqNumber(0) - top, Is.EqualTo(1));
        Assert.That((++top).Value, Is.EqualTo(0u));
        Assert.That(new SeqNumber(5).InRange(uint.MaxValue - 5, 10), Is.True);
    }
}
