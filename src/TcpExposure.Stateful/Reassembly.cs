using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// Out-of-order ranges received above RCV.NXT (the bytes themselves sit in the
/// <see cref="ReceiveBuffer"/>), and the SACK blocks to report for them (RFC 2018 section 4:
/// the block holding the most recently received segment first, then the most recently reported).
/// </summary>
public sealed class Reassembly
{
    /// <summary>Ranges kept at most; a segment that would need more is dropped (and ACKed).</summary>
    public const int MaxRanges = 32;

    private readonly SeqNumber[] _start = new SeqNumber[MaxRanges];
    private readonly SeqNumber[] _end = new SeqNumber[MaxRanges];
    private int _count;
    // Sequence numbers inside recently received ranges, most recent first.
    private readonly SeqNumber[] _recent = new SeqNumber[4];
    private int _recentCount;

    /// <summary>Out-of-order ranges held.</summary>
    public int Count => _count;
    /// <summary>True when nothing is held out of order (no hole below the received data).</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>The range at <paramref name="index"/>, in sequence order.</summary>
    public (SeqNumber Start, SeqNumber End) this[int index] => (_start[index], _end[index]);

    /// <summary>Records that [start, end) arrived out of order. False when the table is full.</summary>
    public bool Add(SeqNumber start, SeqNumber end)
    {
        if (end <= start)
            return true;
        int at = SeqRanges.Insert(_start, _end, ref _count, start, end);
        if (at < 0)
            return false;
        NoteRecent(_start[at]);
        return true;
    }

    /// <summary>
    /// RCV.NXT reached <paramref name="next"/>: drops ranges now below it and returns how far RCV.NXT
    /// can move on through ranges that join it.
    /// </summary>
    public SeqNumber Advance(SeqNumber next)
    {
        int k = 0;
        while (k < _count && _start[k] <= next)
        {
            next = SeqNumber.Max(next, _end[k]);
            k++;
        }
        if (k > 0)
        {
            Array.Copy(_start, k, _start, 0, _count - k);
            Array.Copy(_end, k, _end, 0, _count - k);
            _count -= k;
        }
        return next;
    }

    /// <summary>Forgets everything.</summary>
    public void Clear()
    {
        _count = 0;
        _recentCount = 0;
    }

    /// <summary>
    /// Writes up to <paramref name="max"/> SACK blocks into <paramref name="blocks"/>, the first one
    /// holding the most recently received segment; returns how many.
    /// </summary>
    public int GetSackBlocks(Span<SackBlock> blocks, int max)
    {
        int n = 0;
        max = Math.Min(max, blocks.Length);
        for (int r = 0; r < _recentCount && n < max; r++)
        {
            int idx = Find(_recent[r]);
            if (idx >= 0 && !Contains(blocks[..n], _start[idx]))
                blocks[n++] = new SackBlock(_start[idx], _end[idx]);
        }
        for (int idx = _count - 1; idx >= 0 && n < max; idx--)
        {
            if (!Contains(blocks[..n], _start[idx]))
                blocks[n++] = new SackBlock(_start[idx], _end[idx]);
        }
        return n;
    }

    private static bool Contains(ReadOnlySpan<SackBlock> blocks, SeqNumber start)
    {
        foreach (var b in blocks)
            if (b.Left == start)
                return true;
        return false;
    }

    private int Find(SeqNumber seq)
    {
        for (int i = 0; i < _count; i++)
            if (seq.InRange(_start[i], _end[i]))
                return i;
        return -1;
    }

    private void NoteRecent(SeqNumber seq)
    {
        int keep = Math.Min(_recentCount, _recent.Length - 1);
        Array.Copy(_recent, 0, _recent, 1, keep);
        _recent[0] = seq;
        _recentCount = keep + 1;
    }
}
