using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>
/// Writes a classic pcap file (the libpcap format, version 2.4, little-endian) with micro- or
/// nanosecond timestamps. Writing a packet allocates nothing: the record header goes through a
/// stack buffer. Not thread-safe.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    /// <summary>Magic of a file with microsecond timestamps.</summary>
    public const uint MicrosecondMagic = 0xA1B2C3D4;
    /// <summary>Magic of a file with nanosecond timestamps.</summary>
    public const uint NanosecondMagic = 0xA1B23C4D;
    /// <summary>Bytes of the file header.</summary>
    public const int FileHeaderLength = 24;
    /// <summary>Bytes of each record header.</summary>
    public const int RecordHeaderLength = 16;

    private readonly Stream _stream;
    private readonly bool _nanosecond;
    private readonly int _snapLength;
    private readonly bool _leaveOpen;
    private bool _disposed;

    /// <summary>Starts a pcap file on <paramref name="stream"/> by writing its file header.</summary>
    /// <param name="stream">Where the file goes; written from its current position.</param>
    /// <param name="linkType">What every frame starts with (use <see cref="LinkType.Raw"/> for bare IP packets).</param>
    /// <param name="nanosecond">Nanosecond timestamps (magic 0xA1B23C4D) instead of microseconds.</param>
    /// <param name="snapLength">Frames longer than this are cut to it; the record keeps their original length.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open on <see cref="Dispose"/>.</param>
    public PcapWriter(Stream stream, LinkType linkType, bool nanosecond = false, int snapLength = 262144, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        if (!stream.CanWrite)
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        _stream = stream;
        _nanosecond = nanosecond;
        _snapLength = snapLength;
        _leaveOpen = leaveOpen;
        LinkType = linkType;

        Span<byte> h = stackalloc byte[FileHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(h, nanosecond ? NanosecondMagic : MicrosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);  // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        _stream.Write(h);
    }

    /// <summary>Creates (or overwrites) the file at <paramref name="path"/> with microsecond timestamps.</summary>
    public static PcapWriter Create(string path, LinkType linkType)
    {
        var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        try
        {
            return new PcapWriter(fs, linkType);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>The link type written in the file header.</summary>
    public LinkType LinkType { get; }

    /// <summary>True when timestamps are written in nanoseconds.</summary>
    public bool IsNanosecond => _nanosecond;

    /// <summary>Appends one frame captured at <paramref name="timestamp"/> (1970 to 2106).</summary>
    public void Write(ReadOnlySpan<byte> frame, DateTimeOffset timestamp)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long ticks = timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        if (ticks < 0 || seconds > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(timestamp), timestamp, "A classic pcap timestamp holds 1970-01-01 to 2106-02-07 (unsigned 32-bit seconds).");
        long fraction = ticks % TimeSpan.TicksPerSecond;
        uint sub = _nanosecond ? (uint)(fraction * 100) : (uint)(fraction / 10);
        int captured = Math.Min(frame.Length, _snapLength);

        Span<byte> h = stackalloc byte[RecordHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], sub);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)frame.Length);
        _stream.Write(h);
        _stream.Write(frame[..captured]);
    }

    /// <summary>Pushes buffered records to the underlying stream (and file).</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _stream.Flush();
    }

    /// <summary>Flushes and, unless told to leave it open, closes the stream.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_leaveOpen)
            _stream.Flush();
        else
            _stream.Dispose();
    }
}
