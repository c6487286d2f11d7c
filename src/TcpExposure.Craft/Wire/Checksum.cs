using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TcpExposure.Craft.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words, with the
/// IPv4 and IPv6 pseudo-headers for TCP. Sums are accumulated 32 bits at a time in native order
/// and swapped once at the end, which gives the same result (RFC 1071 section 2(B)).
/// </summary>
public static class Checksum
{
    /// <summary>The finished checksum of <paramref name="data"/> (an IPv4 header with its checksum field zero, say).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Sum(data));

    /// <summary>
    /// One's-complement sum of <paramref name="data"/> as big-endian 16-bit words, folded to
    /// 16 bits but not complemented. An odd trailing byte is padded with zero, as RFC 9293 says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        // Two accumulators so consecutive adds do not wait on each other.
        ulong acc = 0, acc2 = 0;
        ref byte r = ref MemoryMarshal.GetReference(data);
        nint n = data.Length, i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 64)
        {
            // 32-bit lanes widened into 64-bit lanes cannot overflow for any span length.
            var v0 = Vector256<ulong>.Zero;
            var v1 = Vector256<ulong>.Zero;
            for (; n - i >= 32; i += 32)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref Unsafe.As<byte, uint>(ref Unsafe.Add(ref r, i))));
                v0 += lo;
                v1 += hi;
            }
            acc = Vector256.Sum(v0 + v1);
        }
        for (; n - i >= 16; i += 16)
        {
            acc += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i));
            acc2 += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i + 4));
            acc += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i + 8));
            acc2 += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i + 12));
        }
        for (; n - i >= 4; i += 4)
            acc += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i));
        acc = (acc & 0xFFFFFFFF) + (acc >> 32) + (acc2 & 0xFFFFFFFF) + (acc2 >> 32);
        if (n - i >= 2)
        {
            acc += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref r, i));
            i += 2;
        }
        uint tail = 0;
        if (n - i == 1)
            tail = (uint)Unsafe.Add(ref r, i) << 8; // big-endian position of a lone byte
        uint native = Fold(acc);
        uint be = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)native) : native;
        return Fold((ulong)be + tail + initial);
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/> and returns its
    /// <see cref="Sum"/> (plus <paramref name="initial"/>) from the same loads: one pass over the payload
    /// instead of a copy then a re-read. The destination must hold the source.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint CopyAndSum(ReadOnlySpan<byte> source, Span<byte> destination, uint initial = 0)
    {
        if (destination.Length < source.Length)
            ThrowDestinationTooShort();
        ref byte s = ref MemoryMarshal.GetReference(source);
        ref byte d = ref MemoryMarshal.GetReference(destination);
        nint n = source.Length, i = 0;
        ulong acc = 0;
        if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            var v0 = Vector256<ulong>.Zero;
            var v1 = Vector256<ulong>.Zero;
            for (; n - i >= 32; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref s, i));
                v.StoreUnsafe(ref Unsafe.Add(ref d, i));
                var (lo, hi) = Vector256.Widen(v.AsUInt32());
                v0 += lo;
                v1 += hi;
            }
            acc = Vector256.Sum(v0 + v1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 16)
        {
            var v0 = Vector128<ulong>.Zero;
            var v1 = Vector128<ulong>.Zero;
            for (; n - i >= 16; i += 16)
            {
                var v = Vector128.LoadUnsafe(ref Unsafe.Add(ref s, i));
                v.StoreUnsafe(ref Unsafe.Add(ref d, i));
                var (lo, hi) = Vector128.Widen(v.AsUInt32());
                v0 += lo;
                v1 += hi;
            }
            acc = Vector128.Sum(v0 + v1);
        }
        for (; n - i >= 4; i += 4)
        {
            uint w = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref s, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, i), w);
            acc += w;
        }
        if (n - i >= 2)
        {
            ushort h = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref s, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, i), h);
            acc += h;
            i += 2;
        }
        uint tail = 0;
        if (n - i == 1)
        {
            byte b = Unsafe.Add(ref s, i);
            Unsafe.Add(ref d, i) = b;
            tail = (uint)b << 8;
        }
        uint native = Fold(acc);
        uint be = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)native) : native;
        return Fold((ulong)be + tail + initial);
    }

    // Out of line so the hot method stays small.
    [DoesNotReturn]
    private static void ThrowDestinationTooShort() => throw new ArgumentException("The destination is shorter than the source.", "destination");

    /// <summary>Folds a wide one's-complement accumulator to 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fold(ulong acc)
    {
        acc = (acc & 0xFFFFFFFF) + (acc >> 32);
        acc = (acc & 0xFFFF) + (acc >> 16);
        acc = (acc & 0xFFFF) + (acc >> 16);
        acc = (acc & 0xFFFF) + (acc >> 16);
        return (uint)acc;
    }

    /// <summary>Complements a folded sum into the value written in a checksum field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>Sum of the IPv4 pseudo-header (RFC 9293 section 3.1).</summary>
    public static uint PseudoHeaderSumV4(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, int length)
        => Sum(dst, Sum(src, (uint)protocol + (uint)length));

    /// <summary>Sum of the IPv6 pseudo-header (RFC 8200 section 8.1).</summary>
    public static uint PseudoHeaderSumV6(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte nextHeader, int length)
        => Sum(dst, Sum(src, Fold((ulong)nextHeader + (uint)(length >> 16) + (uint)(length & 0xFFFF))));

    /// <summary>Sum of the pseudo-header for a pair of addresses of either family.</summary>
    public static uint PseudoHeaderSum(IPAddress src, IPAddress dst, byte protocol, int length)
    {
        Span<byte> s = stackalloc byte[16];
        Span<byte> d = stackalloc byte[16];
        src.TryWriteBytes(s, out int sl);
        dst.TryWriteBytes(d, out int dl);
        return src.AddressFamily == AddressFamily.InterNetworkV6
            ? PseudoHeaderSumV6(s[..sl], d[..dl], protocol, length)
            : PseudoHeaderSumV4(s[..sl], d[..dl], protocol, length);
    }

    /// <summary>The TCP (or UDP) checksum of <paramref name="segment"/>, whose checksum field must be zero.</summary>
    public static ushort ComputeTransport(uint pseudoHeaderSum, ReadOnlySpan<byte> segment)
        => Finish(Sum(segment, pseudoHeaderSum));

    /// <summary>True when a segment including its checksum field sums to 0xFFFF.</summary>
    public static bool VerifyTransport(uint pseudoHeaderSum, ReadOnlySpan<byte> segment)
        => Fold(Sum(segment, pseudoHeaderSum)) == 0xFFFF;
}
