using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// The one merge routine for sorted, disjoint [start, end) ranges kept in two parallel arrays, shared
/// by the out-of-order queue (<see cref="Reassembly"/>) and the SACK scoreboard.
/// </summary>
internal static class SeqRanges
{
    /// <summary>
    /// Adds [start, end), merging every range it touches. Returns the index of the resulting range,
    /// or -1 when it would need a new slot and the arrays are full.
    /// </summary>
    public static int Insert(SeqNumber[] starts, SeqNumber[] ends, ref int count, SeqNumber start, SeqNumber end)
    {
        int i = 0;
        while (i < count && ends[i] < start)
            i++;
        // i is the first range that ends at or after start: merge every range that touches [start, end).
        int j = i;
        while (j < count && starts[j] <= end)
        {
            start = SeqNumber.Min(start, starts[j]);
            end = SeqNumber.Max(end, ends[j]);
            j++;
        }
        int merged = j - i;
        if (merged == 0)
        {
            if (count == starts.Length)
                return -1;
            Array.Copy(starts, i, starts, i + 1, count - i);
            Array.Copy(ends, i, ends, i + 1, count - i);
            count++;
        }
        else if (merged > 1)
        {
            Array.Copy(starts, j, starts, i + 1, count - j);
            Array.Copy(ends, j, ends, i + 1, count - j);
            count -= merged - 1;
        }
        starts[i] = start;
        ends[i] = end;
        return i;
    }
}
