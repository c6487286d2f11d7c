using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TcpExposure.Craft.Legacy;

namespace TcpExposure.Tool.Bridge;

/// <summary>
/// make_segment's hot path. ctypes converts each argument of a foreign call at a cost of a few
/// hundred nanoseconds, so instead of 18 arguments Python packs one request into a per-thread
/// buffer bound once (<see cref="BindThread"/>) and calls <see cref="MakeSegmentBound"/> with none.
/// Request layout (little-endian): 8 x int64 daddr, saddr, dport, sport, awnd, seq, ack, flags;
/// 3 x int32 option length, payload length, ipcksum; then the composed option bytes and the payload.
/// </summary>
public static unsafe class FastMake
{
    /// <summary>Size of the fixed part of a request.</summary>
    public const int HeaderSize = 8 * 8 + 3 * 4;

    [ThreadStatic] private static byte* _request;
    [ThreadStatic] private static int _requestCap;
    [ThreadStatic] private static byte* _output;
    [ThreadStatic] private static int _outputCap;
    [ThreadStatic] private static string? _error;

    /// <summary>Binds the calling thread's request and output buffers (Python keeps them alive).</summary>
    [UnmanagedCallersOnly]
    public static int BindThread(byte* request, int requestCap, byte* output, int outputCap)
    {
        _request = request;
        _requestCap = requestCap;
        _output = output;
        _outputCap = outputCap;
        return 0;
    }

    /// <summary>Builds the packet of the bound request into the bound output; its length, or minus a <see cref="BridgeStatus"/>.</summary>
    [UnmanagedCallersOnly]
    public static int MakeSegmentBound()
    {
        try
        {
            if (_request is null)
                throw new InvalidOperationException("make_segment: this thread has not bound its buffers.");
            var req = new ReadOnlySpan<byte>(_request, _requestCap);
            if (req.Length < HeaderSize)
                throw new ArgumentException("make_segment request is cut off.");
            int optLen = BinaryPrimitives.ReadInt32LittleEndian(req[64..]);
            int payLen = BinaryPrimitives.ReadInt32LittleEndian(req[68..]);
            bool ipck = BinaryPrimitives.ReadInt32LittleEndian(req[72..]) != 0;
            if (optLen < 0 || payLen < 0 || HeaderSize + (long)optLen + payLen > req.Length)
                throw new ArgumentException("make_segment request lengths are out of range.");
            if (optLen > 40 || (optLen & 3) != 0)
                throw new ArgumentException($"The composed options are {optLen} bytes; they must be a multiple of 4, at most 40.");
            var segment = LegacyCraft.ToSegment(
                U32(F(req, 0), "daddr"), U32(F(req, 1), "saddr"), U16(F(req, 2), "dport"), U16(F(req, 3), "sport"), U16(F(req, 4), "awnd"),
                U32(F(req, 5), "seq"), U32(F(req, 6), "ack"), (int)Range(F(req, 7), 0, 0x1FF, "flags"),
                optLen > 0 ? req.Slice(HeaderSize, optLen).ToArray() : ReadOnlyMemory<byte>.Empty,
                payLen > 0 ? req.Slice(HeaderSize + optLen, payLen).ToArray() : ReadOnlyMemory<byte>.Empty,
                ipck);
            int need = segment.GetEncodedLength();
            if (need > _outputCap)
                throw new ArgumentException($"The packet would be {need} bytes; an IPv4 packet holds at most 65535.");
            return segment.Encode(new Span<byte>(_output, _outputCap));
        }
        catch (Exception e)
        {
            var (status, message) = BridgeResult.Classify(e);
            _error = message;
            return -(int)status;
        }
    }

    /// <summary>The message of the last failed <see cref="MakeSegmentBound"/> on this thread.</summary>
    [UnmanagedCallersOnly]
    public static int TakeError(byte** result, int* resultLen)
    {
        BridgeResult.Put(Encoding.UTF8.GetBytes(_error ?? ""), result, resultLen);
        _error = null;
        return 0;
    }

    private static long F(ReadOnlySpan<byte> req, int i) => BinaryPrimitives.ReadInt64LittleEndian(req[(8 * i)..]);

    internal static long Range(long v, long min, long max, string name) =>
        v < min || v > max ? throw new ArgumentException($"{name} must be {min} to {max}, got {v}.") : v;

    internal static ushort U16(long v, string name) => (ushort)Range(v, 0, ushort.MaxValue, name);

    internal static uint U32(long v, string name) => (uint)Range(v, 0, uint.MaxValue, name);
}
