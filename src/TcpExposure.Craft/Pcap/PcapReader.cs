using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>
/// Reads capture files: classic pcap (micro- or nanosecond magic, either byte order, and the
/// modified "Kuznetzov" variant) and pcapng (sections of either byte order, several interfaces
/// with their own link types and timestamp resolutions, enhanced, simple and obsolete packet
/// blocks; other blocks are skipped). Records are produced lazily as the stream is read.
/// </summary>
/// <remarks>
/// Bytes that are not a capture file, or a file that ends in the middle of a header or record,
/// raise <see cref="InvalidDataException"/> with a message that says what and where; every
/// complete record before the bad spot has been produced by then. No other exception comes from
/// the file's content (I/O errors of the stream pass through), and a record or block claiming
/// more than <see cref="MaxCaptureLength"/> bytes is refused rather than allocated.
/// </remarks>
public static class PcapReader
{
    /// <summary>The largest captured length or block accepted (64 MiB).</summary>
    public const int MaxCaptureLength = 64 << 20;

    /// <summary>Reads every record of the capture on <paramref name="stream"/>, from its current position.</summary>
    public static IEnumerable<PcapRecord> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        return ReadCore(stream);
    }

    /// <summary>Reads every record of the capture file at <paramref name="path"/>; the file stays open until enumeration ends.</summary>
    public static IEnumerable<PcapRecord> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ReadFileCore(path);
    }

    private static IEnumerable<PcapRecord> ReadFileCore(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        foreach (var r in ReadCore(fs))
            yield return r;
    }

    private static IEnumerable<PcapRecord> ReadCore(Stream stream)
    {
        var input = new Input(stream);
        var magic = new byte[4];
        int n = input.Fill(magic);
        if (n == 0)
            throw new InvalidDataException("The file is empty: it has no pcap or pcapng header.");
        if (n < 4)
            throw new InvalidDataException($"The file is {n} bytes long, too short for a pcap or pcapng header.");
        var records = BinaryPrimitives.ReadUInt32LittleEndian(magic) == PcapNgReader.SectionHeaderType
            ? PcapNgReader.Read(input, magic)
            : ClassicReader.Read(input, magic);
        foreach (var r in records)
            yield return r;
    }

    private static readonly long MaxUnixSeconds = (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerSecond;
    private static readonly long MinUnixSeconds = (DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerSecond;

    /// <summary>A timestamp from seconds since 1970, a sub-second part in ticks and an offset in seconds; out of range is bad data.</summary>
    internal static DateTimeOffset FromUnix(ulong seconds, long subTicks, long offsetSeconds, long position)
    {
        long total = seconds > (ulong)MaxUnixSeconds || offsetSeconds > MaxUnixSeconds || offsetSeconds < -MaxUnixSeconds
            ? long.MaxValue
            : (long)seconds + offsetSeconds;
        if (total <= MinUnixSeconds || total >= MaxUnixSeconds)
            throw new InvalidDataException($"The record at byte {position} has a timestamp {seconds} s after 1970 (offset {offsetSeconds} s), outside the years 1 to 9999.");
        return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + total * TimeSpan.TicksPerSecond + subTicks, TimeSpan.Zero);
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    /// <summary>The stream plus the number of bytes consumed, for messages that say where.</summary>
    internal sealed class Input(Stream stream)
    {
        public long Position { get; private set; }

        /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the count read.</summary>
        public int Fill(Span<byte> buffer)
        {
            int n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            Position += n;
            return n;
        }

        /// <summary>Reads <paramref name="length"/> bytes into a new array, growing it as data arrives so a lying length cannot make it allocate up front.</summary>
        public byte[] ReadExactly(int length, string what, long start)
        {
            const int chunk = 1 << 20;
            var buf = new byte[Math.Min(length, chunk)];
            int have = 0;
            while (true)
            {
                int n = Fill(buf.AsSpan(have));
                have += n;
                if (have == length)
                    return buf;
                if (have < buf.Length)
                    throw new InvalidDataException($"The file is truncated: {what} at byte {start} needs {length} bytes but only {have} remain.");
                Array.Resize(ref buf, Math.Min(length, buf.Length * 2));
            }
        }
    }
}
