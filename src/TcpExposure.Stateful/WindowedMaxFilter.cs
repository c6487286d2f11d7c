namespace TcpExposure.Stateful;

/// <summary>
/// Kathleen Nichols' windowed running maximum (Linux lib/win_minmax.c): the best, second best and
/// third best samples of the window, each newer than the one before, so the maximum over the last
/// <c>window</c> time units is known in O(1) from three entries. BBR keeps its bottleneck bandwidth
/// in one, with time counted in round trips.
/// </summary>
public struct WindowedMaxFilter
{
    private (long T, double V) _s0, _s1, _s2;

    /// <summary>The maximum over the window (zero before any sample).</summary>
    public readonly double Value => _s0.V;

    /// <summary>Forgets everything: <paramref name="value"/> at <paramref name="t"/> is the only sample.</summary>
    public void Reset(long t, double value) => _s0 = _s1 = _s2 = (t, value);

    /// <summary>Adds <paramref name="value"/> measured at <paramref name="t"/> (non-decreasing) and returns the maximum over the last <paramref name="window"/>.</summary>
    public double Update(long window, long t, double value)
    {
        var val = (T: t, V: value);
        if (val.V >= _s0.V || val.T - _s2.T > window)
        {
            Reset(t, value); // a new maximum, or nothing in the window any more
            return _s0.V;
        }
        if (val.V >= _s1.V)
            _s2 = _s1 = val;
        else if (val.V >= _s2.V)
            _s2 = val;

        // Age out the best sample: the second and third best move up.
        long dt = val.T - _s0.T;
        if (dt > window)
        {
            _s0 = _s1;
            _s1 = _s2;
            _s2 = val;
            if (val.T - _s0.T > window)
            {
                _s0 = _s1;
                _s1 = _s2;
                _s2 = val;
            }
        }
        else if (_s1.T == _s0.T && dt > window / 4)
            _s2 = _s1 = val; // a quarter of the window passed with no second choice: take this one
        else if (_s2.T == _s1.T && dt > window / 2)
            _s2 = val;       // likewise for the third choice after half the window
        return _s0.V;
    }
}
