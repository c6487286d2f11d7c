namespace TcpExposure.Stateful;

/// <summary>
/// The receive buffer: a circular byte buffer. The first <see cref="Readable"/> bytes are in-order
/// data the application has not read yet; the room after them is the receive window, where
/// out-of-order data is written at its offset from RCV.NXT and becomes readable once the hole
/// before it is filled (<see cref="Reassembly"/> tracks which ranges are present).
/// </summary>
public sealed class ReceiveBuffer
{
    private readonly byte[] _data;
    private int _head;
    private int _readable;

    /// <summary>A buffer holding at most <paramref name="capacity"/> bytes.</summary>
    public ReceiveBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _data = new byte[capacity];
    }

    /// <summary>Size of the buffer in bytes: the largest window this connection can offer.</summary>
    public int Capacity => _data.Length;
    /// <summary>In-order bytes waiting for the application.</summary>
    public int Readable => _readable;
    /// <summary>Room after the readable bytes, in bytes: the receive window (RCV.WND).</summary>
    public int Window => _data.Length - _readable;

    /// <summary>
    /// Stores <paramref name="source"/> at <paramref name="offset"/> bytes past the readable data
    /// (offset 0 is RCV.NXT). Whatever would not fit in the window is dropped; returns the bytes stored.
    /// </summary>
    public int WriteAt(int offset, ReadOnlySpan<byte> source)
    {
        if (offset < 0 || offset >= Window)
            return 0;
        int n = Math.Min(source.Length, Window - offset);
        int start = (_head + _readable + offset) % _data.Length;
        int first = Math.Min(n, _data.Length - start);
        source[..first].CopyTo(_data.AsSpan(start));
        source[first..n].CopyTo(_data);
        return n;
    }

    /// <summary>Makes the next <paramref name="count"/> stored bytes readable (RCV.NXT moved by that much).</summary>
    public void CommitReadable(int count)
    {
        if ((uint)count > (uint)Window)
            throw new ArgumentOutOfRangeException(nameof(count));
        _readable += count;
    }

    /// <summary>Copies readable bytes into <paramref name="destination"/> and frees them; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _readable);
        int first = Math.Min(n, _data.Length - _head);
        _data.AsSpan(_head, first).CopyTo(destination);
        _data.AsSpan(0, n - first).CopyTo(destination[first..]);
        _head = (_head + n) % _data.Length;
        _readable -= n;
        return n;
    }
}
