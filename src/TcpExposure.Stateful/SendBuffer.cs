namespace TcpExposure.Stateful;

/// <summary>
/// The send buffer: a circular byte buffer holding everything written by the application and not
/// yet acknowledged. Byte 0 is the oldest unacknowledged data byte; the connection maps sequence
/// numbers to offsets by subtracting the sequence number of byte 0.
/// </summary>
public sealed class SendBuffer
{
    private readonly byte[] _data;
    private int _head;
    private int _count;

    /// <summary>A buffer holding at most <paramref name="capacity"/> bytes.</summary>
    public SendBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _data = new byte[capacity];
    }

    /// <summary>Size of the buffer in bytes: the most the application can have written and not yet acknowledged.</summary>
    public int Capacity => _data.Length;
    /// <summary>Bytes held (sent and unacknowledged, plus not yet sent).</summary>
    public int Count => _count;
    /// <summary>Room left for the application, bytes.</summary>
    public int Free => _data.Length - _count;

    /// <summary>Appends as much of <paramref name="source"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> source)
    {
        int n = Math.Min(source.Length, Free);
        int tail = (_head + _count) % _data.Length;
        int first = Math.Min(n, _data.Length - tail);
        source[..first].CopyTo(_data.AsSpan(tail));
        source[first..n].CopyTo(_data);
        _count += n;
        return n;
    }

    /// <summary>
    /// The bytes at <paramref name="offset"/>..+<paramref name="length"/> as at most two spans
    /// (the second is empty unless the range wraps around the end of the ring).
    /// </summary>
    public void Peek(int offset, int length, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second)
    {
        if ((uint)offset > (uint)_count || (uint)length > (uint)(_count - offset))
            throw new ArgumentOutOfRangeException(nameof(length), $"Range {offset}+{length} is outside the {_count} buffered bytes.");
        int start = (_head + offset) % _data.Length;
        int firstLen = Math.Min(length, _data.Length - start);
        first = _data.AsSpan(start, firstLen);
        second = _data.AsSpan(0, length - firstLen);
    }

    /// <summary>Drops the oldest <paramref name="count"/> bytes (they were acknowledged).</summary>
    public void Consume(int count)
    {
        if ((uint)count > (uint)_count)
            throw new ArgumentOutOfRangeException(nameof(count));
        _head = (_head + count) % _data.Length;
        _count -= count;
    }
}
