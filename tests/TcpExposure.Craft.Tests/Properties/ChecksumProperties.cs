using System.Net;
using FsCheck;
using FsCheck.Fluent;
using TcpExposure.Craft.Wire;
using static TcpExposure.Craft.Tests.Properties.Generators;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary><see cref="Checksum"/> against a word-at-a-time RFC 1071 reference.</summary>
public class ChecksumProperties
{
    /// <summary>RFC 1071 as written: big-endian 16-bit words, odd byte padded with zero, end-around carry.</summary>
    internal static uint NaiveSum(ReadOnlySpan<byte> data, uint initial)
    {
        ulong sum = initial;
        for (int i = 0; i + 1 < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | data[i + 1]);
        if (data.Length % 2 == 1)
            sum += (uint)data[^1] << 8;
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint)sum;
    }

    [Test]
    public void SumMatchesTheReferenceOnAnySpan() => PropertyCheck.Holds(
        Z(Bytes(0, 1600), Gen.Choose(0, 7), Gen.Choose(0, 7), Gen.Elements(0u, 1u, 0xFFFFu, 0x1FFFEu, 0xFFFFFFFFu)), t =>
    {
        var (data, skip, cut, initial) = t;
        // Start and end anywhere, so every alignment and odd length is covered.
        var span = data.AsSpan(Math.Min(skip, data.Length));
        span = span[..Math.Max(0, span.Length - cut)];
        uint expected = NaiveSum(span, 0);
        Assert.That(Checksum.Sum(span), Is.EqualTo(expected));
        Assert.That(Checksum.Compute(span), Is.EqualTo((ushort)~expected));
        Assert.That(Checksum.Fold(Checksum.Sum(span, initial)), Is.EqualTo(NaiveSum(span, initial)));
    }, 2000);

    [Test]
    public void LargeSpansDoNotOverflow()
    {
        var big = new byte[1 << 20];
        Array.Fill(big, (byte)0xFF);
        Assert.That(Checksum.Sum(big), Is.EqualTo(NaiveSum(big, 0)));
        new Random(7).NextBytes(big);
        Assert.That(Checksum.Sum(big.AsSpan(1)), Is.EqualTo(NaiveSum(big.AsSpan(1), 0)));
    }

    [Test]
    public void PseudoHeadersMatchTheReference() => PropertyCheck.Holds(Z(Gen.OneOf(Z(V4, V4), Z(V6, V6)), Gen.Choose(0, 70000)), t =>
    {
        var ((src, dst), length) = t;
        byte[] pseudo = src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? [.. src.GetAddressBytes(), .. dst.GetAddressBytes(), 0, 6, (byte)(length >> 8), (byte)length]
            : [.. src.GetAddressBytes(), .. dst.GetAddressBytes(), (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, 0, 0, 0, 6];
        if (src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && length > 0xFFFF)
            return; // the IPv4 pseudo-header length is 16 bits
        Assert.That(Checksum.Fold(Checksum.PseudoHeaderSum(src, dst, 6, length)), Is.EqualTo(NaiveSum(pseudo, 0)));
    }, 1000);
}
