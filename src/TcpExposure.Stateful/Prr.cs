namespace TcpExposure.Stateful;

/// <summary>
/// Proportional Rate Reduction (RFC 6937): during loss recovery, how many bytes each ACK lets the
/// sender transmit. While the pipe is above ssthresh, sending follows the delivery rate scaled by
/// ssthresh / RecoverFS, so the window comes down smoothly to ssthresh over one round trip instead
/// of in a single step (no burst, no stall); once the pipe fell below ssthresh, slow start
/// reduction bound (SSRB) lets it climb back by at most one segment more than was delivered.
/// </summary>
internal sealed class Prr
{
    private int _recoverFs;     // RecoverFS: the flight when recovery began
    private long _delivered;    // prr_delivered
    private long _out;          // prr_out

    /// <summary>Bytes that may be sent now (sndcnt less what was sent since it was computed).</summary>
    public int Quota { get; private set; }

    /// <summary>Recovery begins with <paramref name="flightSize"/> bytes outstanding.</summary>
    public void Start(int flightSize)
    {
        _recoverFs = Math.Max(flightSize, 1);
        _delivered = 0;
        _out = 0;
        Quota = 0;
    }

    /// <summary>An ACK in recovery delivered <paramref name="delivered"/> bytes, leaving <paramref name="pipe"/> in the network.</summary>
    public void OnAck(int delivered, int pipe, int ssthresh, int mss)
    {
        _delivered += delivered;
        long sndcnt;
        if (pipe > ssthresh)
        {
            // Proportional part: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out.
            sndcnt = (_delivered * ssthresh + _recoverFs - 1) / _recoverFs - _out;
        }
        else
        {
            // Slow start reduction bound.
            long limit = Math.Max(_delivered - _out, delivered) + mss;
            sndcnt = Math.Min(ssthresh - pipe, limit);
        }
        // The first ACK of a recovery always lets the fast retransmission go (as Linux does).
        if (_out == 0 && sndcnt < mss)
            sndcnt = mss;
        Quota = (int)Math.Clamp(sndcnt, 0, int.MaxValue);
    }

    /// <summary>At least one segment may go now (the reordering timer marked a loss with no ACK to clock it out).</summary>
    public void AllowOne(int mss) => Quota = Math.Max(Quota, mss);

    /// <summary><paramref name="bytes"/> left during recovery.</summary>
    public void OnSent(int bytes)
    {
        _out += bytes;
        Quota = Math.Max(0, Quota - bytes);
    }
}
