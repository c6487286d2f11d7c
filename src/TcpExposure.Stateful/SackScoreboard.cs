using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// The sender's record of what the peer SACKed above SND.UNA (RFC 6675 section 3): sorted,
/// merged ranges, with the loss rule IsLost (DupThresh segments' worth of SACKed bytes above a
/// sequence number) and the pipe estimate built on it.
/// </summary>
public sealed class SackScoreboard
{
    private const int MaxRanges = 32;
    private const int DupThresh = 3;
    private readonly SeqNumber[] _start = new SeqNumber[MaxRanges];
    private readonly SeqNumber[] _end = new SeqNumber[MaxRanges];
    private int _count;

    /// <summary>True when the peer has SACKed nothing above SND.UNA.</summary>
    public bool IsEmpty => _count == 0;
    /// <summary>Disjoint SACKed ranges held (at most 32; further ones are not recorded).</summary>
    public int Count => _count;
    /// <summary>The end of the highest SACKed range (only meaningful when not empty).</summary>
    public SeqNumber HighestSacked => _end[_count - 1];

    /// <summary>Total SACKed bytes.</summary>
    public int SackedBytes
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _count; i++)
                n += _end[i] - _start[i];
            return n;
        }
    }

    /// <summary>Adds the blocks of an ACK, ignoring those at or below <paramref name="una"/> or above <paramref name="max"/> (RFC 2883 D-SACKs and lies).</summary>
    public void Update(SeqNumber una, SeqNumber max, ReadOnlySpan<SackBlock> blocks)
    {
        foreach (var b in blocks)
        {
            if (b.Right <= una || b.Left > max || b.Right > max || b.Right <= b.Left)
                continue;
            Add(SeqNumber.Max(b.Left, una), b.Right);
        }
    }

    /// <summary>SND.UNA moved to <paramref name="una"/>: forget everything below it.</summary>
    public void Acknowledge(SeqNumber una)
    {
        int k = 0;
        while (k < _count && _end[k] <= una)
            k++;
        if (k > 0)
        {
            Array.Copy(_start, k, _start, 0, _count - k);
            Array.Copy(_end, k, _end, 0, _count - k);
            _count -= k;
        }
        if (_count > 0 && _start[0] < una)
            _start[0] = una;
    }

    /// <summary>Forgets every SACKed range.</summary>
    public void Clear() => _count = 0;

    /// <summary>True when the byte at <paramref name="seq"/> lies in a SACKed range.</summary>
    public bool IsSacked(SeqNumber seq)
    {
        for (int i = 0; i < _count; i++)
            if (seq.InRange(_start[i], _end[i]))
                return true;
        return false;
    }

    /// <summary>When <paramref name="seq"/> lies in a SACKed range, the end of that range.</summary>
    public bool TryGetSackedEnd(SeqNumber seq, out SeqNumber end)
    {
        for (int i = 0; i < _count; i++)
            if (seq.InRange(_start[i], _end[i]))
            {
                end = _end[i];
                return true;
            }
        end = seq;
        return false;
    }

    /// <summary>The start of the first SACKed range above <paramref name="seq"/>, if any.</summary>
    public bool TryGetNextSackedStart(SeqNumber seq, out SeqNumber start)
    {
        for (int i = 0; i < _count; i++)
            if (_start[i] > seq)
            {
                start = _start[i];
                return true;
            }
        start = seq;
        return false;
    }

    /// <summary>SACKed bytes below <paramref name="seq"/>.</summary>
    public int SackedBytesBelow(SeqNumber seq)
    {
        int n = 0;
        for (int i = 0; i < _count && _start[i] < seq; i++)
            n += SeqNumber.Min(_end[i], seq) - _start[i];
        return n;
    }

    /// <summary>SACKed bytes above <paramref name="seq"/>.</summary>
    public int SackedBytesAbove(SeqNumber seq)
    {
        int n = 0;
        for (int i = _count - 1; i >= 0 && _end[i] > seq; i--)
            n += _end[i] - SeqNumber.Max(_start[i], seq);
        return n;
    }

    /// <summary>RFC 6675 IsLost: DupThresh discontiguous ranges or (DupThresh - 1) * SMSS + 1 bytes SACKed above.</summary>
    public bool IsLost(SeqNumber seq, int mss)
    {
        int ranges = 0;
        for (int i = _count - 1; i >= 0 && _end[i] > seq; i--)
            ranges++;
        return ranges >= DupThresh || SackedBytesAbove(seq) > (DupThresh - 1) * mss;
    }

    /// <summary>
    /// The first hole (un-SACKed range) starting at or after <paramref name="from"/> and below the
    /// highest SACKed byte. False when there is none.
    /// </summary>
    public bool NextHole(SeqNumber from, out SeqNumber start, out SeqNumber end)
    {
        start = from;
        end = from;
        for (int i = 0; i < _count; i++)
        {
            if (_end[i] <= start)
                continue;
            if (_start[i] <= start)
            {
                start = _end[i];
                continue;
            }
            end = _start[i];
            return true;
        }
        return false;
    }

    /// <summary>
    /// RFC 6675 SetPipe: bytes believed in the network between <paramref name="una"/> and
    /// <paramref name="max"/>, given that everything below <paramref name="highRxt"/> not SACKed
    /// was retransmitted during this recovery.
    /// </summary>
    public int Pipe(SeqNumber una, SeqNumber max, SeqNumber highRxt, int mss)
    {
        int pipe = 0;
        SeqNumber at = una;
        while (at < max)
        {
            // Walk un-SACKed stretches in steps of at most one segment, so IsLost is judged per segment.
            SeqNumber stop = max;
            bool sacked = false;
            for (int i = 0; i < _count; i++)
            {
                if (at.InRange(_start[i], _end[i])) { sacked = true; stop = _end[i]; break; }
                if (_start[i] > at) { stop = SeqNumber.Min(stop, _start[i]); break; }
            }
            if (!sacked)
            {
                if (stop - at > mss)
                    stop = at + mss;
                int len = stop - at;
                if (!IsLost(at, mss))
                    pipe += len;
                if (at < highRxt)
                    pipe += Math.Min(len, highRxt - at);
            }
            at = stop;
        }
        return pipe;
    }

    private void Add(SeqNumber start, SeqNumber end) => SeqRanges.Insert(_start, _end, ref _count, start, end);
}
