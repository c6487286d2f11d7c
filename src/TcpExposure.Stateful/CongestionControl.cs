namespace TcpExposure.Stateful;

/// <summary>The congestion control algorithms a connection can use.</summary>
public enum CongestionAlgorithm
{
    /// <summary>RFC 5681 slow start and congestion avoidance (loss recovery per RFC 6582 / RFC 6675).</summary>
    NewReno,
    /// <summary>RFC 9438 CUBIC window growth.</summary>
    Cubic,
    /// <summary>BBR v1 (model-based: bottleneck bandwidth and round-trip time), as Linux tcp_bbr.c; random loss does not shrink its window.</summary>
    Bbr,
}

/// <summary>
/// How the congestion window grows and shrinks. Loss recovery (fast retransmit, NewReno partial
/// ACKs, SACK pipe accounting) is the connection's; the algorithm decides window growth on ACKs
/// and the slow start threshold after a congestion event.
/// </summary>
public interface ICongestionControl
{
    /// <summary>
    /// The largest congestion window any algorithm keeps, in bytes (1 GiB): far above any real
    /// path's need, and low enough that window arithmetic (cwnd plus a few segments) cannot
    /// overflow an int. A window that only grows (a receive-window-limited transfer never loses)
    /// would otherwise wrap negative after about 4 GB and stall the connection.
    /// </summary>
    const int MaxWindow = int.MaxValue / 2;

    /// <summary>The congestion window in bytes (at most <see cref="MaxWindow"/>).</summary>
    int Window { get; set; }
    /// <summary>The slow start threshold in bytes.</summary>
    int SlowStartThreshold { get; }
    /// <summary>New data was acknowledged outside loss recovery.</summary>
    /// <param name="ackedBytes">Data bytes the ACK newly acknowledged (SYN and FIN excluded).</param>
    /// <param name="flightSize">Bytes still outstanding after the ACK (SND.MAX - SND.UNA).</param>
    /// <param name="now">The connection's clock.</param>
    /// <param name="srtt">The connection's smoothed RTT; null before the first sample.</param>
    void OnAck(int ackedBytes, int flightSize, TimeSpan now, TimeSpan? srtt);
    /// <summary>Loss detected by duplicate ACKs or SACK: sets the threshold (the connection sets the window).</summary>
    /// <param name="flightSize">Bytes outstanding when the loss was detected (RFC 5681 FlightSize).</param>
    /// <param name="now">The connection's clock.</param>
    void OnCongestionEvent(int flightSize, TimeSpan now);
    /// <summary>The retransmission timer expired: threshold from the flight, window to one segment.</summary>
    /// <param name="flightSize">Bytes outstanding when the timer expired (RFC 5681 FlightSize).</param>
    /// <param name="now">The connection's clock.</param>
    void OnRetransmitTimeout(int flightSize, TimeSpan now);
    /// <summary>The last reduction proved spurious (D-SACK, RFC 2883): go back to this window and threshold, in bytes.</summary>
    void Restore(int window, int slowStartThreshold);
    /// <summary>
    /// The algorithm sets the window during loss recovery too (model-based, as BBR): the
    /// connection then applies neither PRR's quota nor ssthresh nor NewReno's inflation to it.
    /// </summary>
    bool OwnsRecovery => false;
}

/// <summary>Creates the algorithm named in the configuration.</summary>
public static class CongestionControlFactory
{
    /// <summary>
    /// A fresh instance of <paramref name="algorithm"/> (NewReno for an unknown value) whose initial
    /// window is <paramref name="initialWindowSegments"/> segments of <paramref name="mss"/> bytes.
    /// </summary>
    public static ICongestionControl Create(CongestionAlgorithm algorithm, int mss, int initialWindowSegments) => algorithm switch
    {
        CongestionAlgorithm.Cubic => new CubicCongestionControl(mss, initialWindowSegments),
        CongestionAlgorithm.Bbr => new BbrCongestionControl(mss, initialWindowSegments),
        _ => new NewRenoCongestionControl(mss, initialWindowSegments),
    };
}

/// <summary>RFC 5681: slow start below ssthresh, about one segment per RTT above it.</summary>
public sealed class NewRenoCongestionControl(int mss, int initialWindowSegments) : ICongestionControl
{
    private int _bytesAcked;
    /// <inheritdoc/>
    private int _window = mss * initialWindowSegments;

    /// <inheritdoc/>
    public int Window { get => _window; set => _window = Math.Clamp(value, 0, ICongestionControl.MaxWindow); }
    /// <inheritdoc/>
    public int SlowStartThreshold { get; private set; } = int.MaxValue;

    /// <inheritdoc/>
    public void OnAck(int ackedBytes, int flightSize, TimeSpan now, TimeSpan? srtt)
    {
        if (Window < SlowStartThreshold)
        {
            // RFC 5681 3.1 with appropriate byte counting limited to one SMSS per ACK.
            Window += Math.Min(ackedBytes, mss);
            return;
        }
        _bytesAcked += ackedBytes;
        if (_bytesAcked >= Window)
        {
            _bytesAcked -= Window;
            Window += mss;
        }
    }

    /// <inheritdoc/>
    public void OnCongestionEvent(int flightSize, TimeSpan now)
    {
        SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        _bytesAcked = 0;
    }

    /// <inheritdoc/>
    public void OnRetransmitTimeout(int flightSize, TimeSpan now)
    {
        SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        Window = mss;
        _bytesAcked = 0;
    }

    /// <inheritdoc/>
    public void Restore(int window, int slowStartThreshold)
    {
        Window = window;
        SlowStartThreshold = slowStartThreshold;
        _bytesAcked = 0;
    }
}

/// <summary>
/// CUBIC (RFC 9438): after a loss the window follows W(t) = C (t - K)^3 + Wmax, with a
/// Reno-friendly floor; slow start as NewReno below ssthresh.
/// </summary>
public sealed class CubicCongestionControl(int mss, int initialWindowSegments) : ICongestionControl
{
    private const double C = 0.4;
    private const double Beta = 0.7;
    private double _wMax;          // segments
    private double _k;             // seconds
    private TimeSpan? _epoch;
    private double _wEst;          // segments, Reno-friendly estimate
    private double _cwndSegments = initialWindowSegments;

    /// <inheritdoc/>
    public int Window
    {
        get => (int)Math.Clamp(_cwndSegments * mss, mss, ICongestionControl.MaxWindow);
        set => _cwndSegments = (double)Math.Min(value, ICongestionControl.MaxWindow) / mss;
    }

    /// <inheritdoc/>
    public int SlowStartThreshold { get; private set; } = int.MaxValue;

    /// <inheritdoc/>
    public void OnAck(int ackedBytes, int flightSize, TimeSpan now, TimeSpan? srtt)
    {
        if (_cwndSegments == 0)
            _cwndSegments = initialWindowSegments;
        if (Window < SlowStartThreshold)
        {
            _cwndSegments = Math.Min(_cwndSegments + Math.Min(ackedBytes, mss) / (double)mss, (double)ICongestionControl.MaxWindow / mss);
            return;
        }
        if (_epoch is null)
        {
            _epoch = now;
            if (_wMax < _cwndSegments)
            {
                _wMax = _cwndSegments;
                _k = 0;
            }
            else
                _k = Math.Cbrt((_wMax - _cwndSegments) / C);
            _wEst = _cwndSegments;
        }
        double t = (now - _epoch.Value + (srtt ?? TimeSpan.Zero)).TotalSeconds;
        double target = C * Math.Pow(t - _k, 3) + _wMax;
        double segs = (double)ackedBytes / mss;
        // RFC 9438 4.3: the Reno-friendly estimate grows by 3(1-beta)/(1+beta) segments per window.
        _wEst += 3 * (1 - Beta) / (1 + Beta) * segs / _cwndSegments;
        if (target < _wEst)
            target = _wEst;
        if (target > _cwndSegments)
            _cwndSegments += Math.Min(target - _cwndSegments, _cwndSegments * 0.5) * segs / _cwndSegments;
        _cwndSegments = Math.Min(_cwndSegments, (double)ICongestionControl.MaxWindow / mss);
    }

    /// <inheritdoc/>
    public void OnCongestionEvent(int flightSize, TimeSpan now)
    {
        if (_cwndSegments == 0)
            _cwndSegments = initialWindowSegments;
        _wMax = _cwndSegments;
        _epoch = null;
        SlowStartThreshold = Math.Max((int)(_cwndSegments * Beta * mss), 2 * mss);
    }

    /// <inheritdoc/>
    public void Restore(int window, int slowStartThreshold)
    {
        // RFC 9438 4.9: a spurious reduction is undone; the epoch restarts from the restored window.
        Window = window;
        SlowStartThreshold = slowStartThreshold;
        _epoch = null;
    }

    /// <inheritdoc/>
    public void OnRetransmitTimeout(int flightSize, TimeSpan now)
    {
        OnCongestionEvent(flightSize, now);
        _cwndSegments = 1;
    }
}
