namespace TcpExposure.Stateful;

/// <summary>
/// The retransmission timeout per RFC 6298: SRTT and RTTVAR from samples, RTO = SRTT + max(G, 4 RTTVAR)
/// clamped to [min RTO, max RTO], doubled on every expiry. Karn's rule (never sample a retransmitted
/// segment) is the caller's job: it simply does not call <see cref="AddSample"/> for those.
/// </summary>
public sealed class RttEstimator
{
    private static readonly TimeSpan ClockGranularity = TimeSpan.FromMilliseconds(1);
    private readonly TimeSpan _minRto;
    private readonly TimeSpan _maxRto;
    private TimeSpan _baseRto;

    /// <summary>An estimator with no sample yet: RTO is <paramref name="initialRto"/> (RFC 6298: 1 s).</summary>
    public RttEstimator(TimeSpan initialRto, TimeSpan minRto, TimeSpan maxRto)
    {
        _minRto = minRto;
        _maxRto = maxRto;
        _baseRto = Clamp(initialRto);
    }

    /// <summary>SRTT (RFC 6298 section 2); null until the first sample.</summary>
    public TimeSpan? SmoothedRtt { get; private set; }
    /// <summary>RTTVAR, the smoothed mean deviation of the samples (RFC 6298 section 2); zero until the first sample.</summary>
    public TimeSpan RttVariance { get; private set; }
    /// <summary>Expiries since the last valid sample (each one doubled the RTO).</summary>
    public int Backoff { get; private set; }

    /// <summary>The current timeout, backoff included.</summary>
    public TimeSpan Rto
    {
        get
        {
            var rto = _baseRto;
            for (int i = 0; i < Backoff && rto < _maxRto; i++)
                rto += rto;
            return rto > _maxRto ? _maxRto : rto;
        }
    }

    /// <summary>Takes a round-trip sample (RFC 6298 section 2) and clears the backoff.</summary>
    public void AddSample(TimeSpan rtt)
    {
        if (rtt < TimeSpan.Zero)
            return;
        if (SmoothedRtt is not { } srtt)
        {
            SmoothedRtt = rtt;
            RttVariance = rtt / 2;
        }
        else
        {
            var delta = srtt - rtt;
            RttVariance = (RttVariance * 3 + delta.Duration()) / 4;
            SmoothedRtt = (srtt * 7 + rtt) / 8;
        }
        var k = RttVariance * 4;
        _baseRto = Clamp(SmoothedRtt.Value + (k > ClockGranularity ? k : ClockGranularity));
        Backoff = 0;
    }

    /// <summary>The timer expired: back off (RFC 6298 5.5).</summary>
    public void OnTimeout()
    {
        if (Rto < _maxRto)
            Backoff++;
    }

    /// <summary>Clears the backoff without a sample (e.g. once a zero-window probe is answered).</summary>
    public void ResetBackoff() => Backoff = 0;

    private TimeSpan Clamp(TimeSpan rto) => rto < _minRto ? _minRto : rto > _maxRto ? _maxRto : rto;
}
