using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Packets;

/// <summary>
/// A segment's IP and TCP headers encoded once, with the TCP checksum's contribution of the
/// pseudo-header and TCP header already summed. A segment is immutable, so encoding it again is a
/// copy of these bytes, the payload copied and summed in one pass, and one 16-bit store. Only the
/// payload is read afresh each time (its memory is the caller's and may change).
/// </summary>
internal sealed class HeaderTemplate(TcpSegment owner, byte[] bytes, int ipLength, uint partialSum, bool computeChecksum)
{
    /// <summary>
    /// The instance this was built for. A <c>with</c> expression copies the field holding the
    /// template into the new record, whose fields may differ: it must not use it.
    /// </summary>
    public readonly TcpSegment Owner = owner;
    private readonly byte[] _bytes = bytes;
    private readonly int _ipLength = ipLength;
    private readonly uint _partialSum = partialSum;
    private readonly bool _computeChecksum = computeChecksum;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryEncode(Span<byte> destination, ReadOnlySpan<byte> payload, out int written)
    {
        var header = _bytes;
        written = header.Length + payload.Length;
        if ((uint)destination.Length < (uint)written)
        {
            written = 0;
            return false;
        }
        ref byte d = ref MemoryMarshal.GetReference(destination);
        CopyHeader(ref MemoryMarshal.GetArrayDataReference(header), ref d, header.Length);
        Finish(destination.Slice(header.Length), payload, ref Unsafe.Add(ref d, _ipLength + 16));
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryEncodeTcp(Span<byte> destination, ReadOnlySpan<byte> payload, out int written)
    {
        int hl = _bytes.Length - _ipLength;
        written = hl + payload.Length;
        if ((uint)destination.Length < (uint)written)
        {
            written = 0;
            return false;
        }
        ref byte d = ref MemoryMarshal.GetReference(destination);
        CopyHeader(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_bytes), _ipLength), ref d, hl);
        Finish(destination.Slice(hl), payload, ref Unsafe.Add(ref d, 16));
        return true;
    }

    private void Finish(Span<byte> body, ReadOnlySpan<byte> payload, ref byte checksumField)
    {
        if (!_computeChecksum)
        {
            payload.CopyTo(body);
            return;
        }
        uint sum = Checksum.CopyAndSum(payload, body, _partialSum);
        Unsafe.WriteUnaligned(ref checksumField, BitConverter.IsLittleEndian
            ? BinaryPrimitives.ReverseEndianness(Checksum.Finish(sum)) : Checksum.Finish(sum));
    }

    // Headers are 40 to 120 bytes: overlapping 32-byte vector moves beat a general memmove call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyHeader(ref byte src, ref byte dst, int length)
    {
        if (Vector256.IsHardwareAccelerated && length is >= 32 and <= 128)
        {
            nint last = length - 32;
            for (nint i = 0; i < last; i += 32)
                Vector256.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
            Vector256.LoadUnsafe(ref src, (nuint)last).StoreUnsafe(ref dst, (nuint)last);
            return;
        }
        Unsafe.CopyBlockUnaligned(ref dst, ref src, (uint)length);
    }
}

/// <summary>
/// The slot where a <see cref="TcpSegment"/> keeps its encode state: nothing, the segment itself
/// (encoded once), or its <see cref="HeaderTemplate"/>. A cache, so record equality ignores it.
/// </summary>
internal struct EncodeCache : IEquatable<EncodeCache>
{
    public object? State;
    public readonly bool Equals(EncodeCache other) => true;
    public override readonly bool Equals(object? obj) => obj is EncodeCache;
    public override readonly int GetHashCode() => 0;
}
