namespace TcpExposure.Stateful;

/// <summary>The BBR state machine's modes (draft-cardwell-iccrg-bbr-congestion-control section 4.3).</summary>
public enum BbrMode
{
    /// <summary>Exponential growth (gain 2/ln2) until the bandwidth stops growing.</summary>
    Startup,
    /// <summary>Drains the queue Startup built, until the flight is down to one BDP.</summary>
    Drain,
    /// <summary>Steady state: pacing gain cycles 1.25, 0.75, then 1 for six rounds.</summary>
    ProbeBw,
    /// <summary>Flight cut to four segments for 200 ms and a round, to measure the round trip again.</summary>
    ProbeRtt,
}

/// <summary>Where the connection's loss recovery is, as BBR sees it (Linux's TCP_CA_Open/Recovery/Loss).</summary>
public enum RecoveryState
{
    /// <summary>No recovery.</summary>
    Open,
    /// <summary>Fast recovery (RACK or duplicate ACKs).</summary>
    Recovery,
    /// <summary>After a retransmission timeout, until everything sent before it is acknowledged.</summary>
    Loss,
}

/// <summary>
/// BBR v1 (draft-cardwell-iccrg-bbr-congestion-control-00, Linux net/ipv4/tcp_bbr.c): a model of
/// the path, the bottleneck bandwidth (a windowed maximum of delivery rate samples over ten round
/// trips) and the round-trip propagation time (a minimum over ten seconds), sets the window to
/// cwnd_gain * BDP plus a send quantum and the ACK aggregation seen, at least four segments.
/// Random loss does not shrink it: during the first round of a recovery the window follows packet
/// conservation (what is in flight plus what the ACK delivered), then the model's window again; at
/// the end of a recovery (or of an RTO's loss state) the window before it is restored.
/// It owns the window during recovery (<see cref="ICongestionControl.OwnsRecovery"/>): the
/// connection applies neither PRR nor ssthresh to it. Fed by <see cref="Update"/> once per ACK
/// with the ACK's <see cref="RateSample"/>.
/// Pacing at <see cref="PacingRate"/> is the connection's, and only with <see cref="TcpConfig.Pacing"/>;
/// without it the flight is bounded by the window only.
/// Not implemented: long-term bandwidth (policer) sampling and the idle-restart pacing rule.
/// </summary>
public sealed class BbrCongestionControl : ICongestionControl
{
    /// <summary>Startup's gain, 2/ln 2: the smallest that doubles the delivery rate every round.</summary>
    public const double HighGain = 2.885;
    /// <summary>Drain's pacing gain, the inverse of Startup's.</summary>
    public const double DrainGain = 1 / HighGain;
    /// <summary>ProbeBW's window gain: room for the 1.25 probing phase and delayed, stretched ACKs.</summary>
    public const double CwndGain = 2;
    /// <summary>The bandwidth filter's window, in round trips.</summary>
    public const int BandwidthWindowRounds = 10;
    /// <summary>The RTprop filter's window.</summary>
    public static readonly TimeSpan MinRttWindow = TimeSpan.FromSeconds(10);
    /// <summary>How long ProbeRTT holds the flight at four segments (at least a round trip too).</summary>
    public static readonly TimeSpan ProbeRttDuration = TimeSpan.FromMilliseconds(200);
    private const int CycleLength = 8;
    private const double FullBandwidthGrowth = 1.25;
    private const int FullBandwidthRounds = 3;
    private const int MinWindowSegments = 4;
    private const int ExtraAckedWindowRounds = 5;
    private static readonly TimeSpan ExtraAckedMax = TimeSpan.FromMilliseconds(100);
    /// <summary>Pacing at 99% of the estimate keeps the bottleneck queue from growing (Linux bbr_pacing_margin_percent).</summary>
    private const double PacingMargin = 0.99;
    /// <summary>Largest GSO burst, the send quantum's cap (Linux: GSO_LEGACY_MAX_SIZE).</summary>
    private const int MaxQuantum = 64 * 1024;

    private static double CycleGain(int index) => index switch { 0 => 1.25, 1 => 0.75, _ => 1.0 };

    private readonly int _mss;
    private readonly int _initialWindow;
    private int _cwnd;
    private int _priorCwnd;
    private RecoveryState _prevState;
    private bool _packetConservation;

    private WindowedMaxFilter _bw;         // bytes per second, time in rounds
    private long _roundCount;
    private long _nextRoundDelivered;
    private bool _roundStart;

    private TimeSpan? _minRtt;
    private TimeSpan _minRttStamp;
    private TimeSpan? _probeRttDone;
    private bool _probeRttRoundDone;

    private double _fullBw;
    private int _fullBwCount;

    private int _cycleIndex;
    private TimeSpan _cycleStamp;

    // ACK aggregation (Linux bbr_update_ack_aggregation): bytes ACKed beyond what the bandwidth
    // explains, a max over two five-round windows; added to the window so that the sender does not
    // stall while a receiver (or GRO) holds its ACKs back.
    private readonly long[] _extraAcked = new long[2];
    private int _extraAckedRounds;
    private int _extraAckedIndex;
    private TimeSpan _ackEpochStamp;
    private long _ackEpochAcked;

    private uint _random = 0x9E3779B9;
    private bool _hasSeenRtt;

    /// <summary>A connection starting with <paramref name="initialWindowSegments"/> segments of <paramref name="mss"/> bytes.</summary>
    public BbrCongestionControl(int mss, int initialWindowSegments)
    {
        _mss = mss;
        _initialWindow = mss * initialWindowSegments;
        _cwnd = _initialWindow;
        PacingGain = HighGain;
        CwndGainNow = HighGain;
    }

    /// <inheritdoc/>
    public int Window { get => _cwnd; set => _cwnd = Math.Clamp(value, _mss, ICongestionControl.MaxWindow); }
    /// <summary>BBR has no threshold: always "infinite".</summary>
    public int SlowStartThreshold => int.MaxValue;
    /// <inheritdoc/>
    public bool OwnsRecovery => true;

    /// <summary>The mode of the state machine.</summary>
    public BbrMode Mode { get; private set; }
    /// <summary>The bottleneck bandwidth estimate, bytes per second (zero before a sample).</summary>
    public double BottleneckBandwidth => _bw.Value;
    /// <summary>The round-trip propagation time estimate; null before a sample.</summary>
    public TimeSpan? MinRtt => _minRtt;
    /// <summary>Round trips counted so far (a round ends when a segment sent after the last round's end is delivered).</summary>
    public long RoundCount => _roundCount;
    /// <summary>Startup saw the bandwidth grow less than 25% in three rounds in a row.</summary>
    public bool FullBandwidthReached { get; private set; }
    /// <summary>The current pacing gain.</summary>
    public double PacingGain { get; private set; }
    /// <summary>The current window gain.</summary>
    public double CwndGainNow { get; private set; }
    /// <summary>Index in the ProbeBW gain cycle.</summary>
    public int CycleIndex => _cycleIndex;
    /// <summary>In the first round of a recovery: the window is what is in flight plus what each ACK delivered.</summary>
    public bool PacketConservation => _packetConservation;
    /// <summary>pacing_gain * BtlBw * 99%, bytes per second; before any sample, Startup's rate over the initial window and 1 ms.</summary>
    public double PacingRate { get; private set; }

    /// <summary>Window growth comes from <see cref="Update"/>, not from the connection's per-ACK hook.</summary>
    public void OnAck(int ackedBytes, int flightSize, TimeSpan now, TimeSpan? srtt) { }

    /// <summary>A recovery starts: remember the window to restore at its end (Linux bbr_ssthresh).</summary>
    public void OnCongestionEvent(int flightSize, TimeSpan now) => SaveWindow();

    /// <summary>
    /// An RTO: the window drops to one segment (everything is deemed lost, nothing is in flight) and
    /// regrows by what each ACK delivers up to the model's window; the window from before is
    /// restored once the loss state ends (Linux tcp_enter_loss with bbr_set_state(TCP_CA_Loss)).
    /// </summary>
    public void OnRetransmitTimeout(int flightSize, TimeSpan now)
    {
        SaveWindow();
        _prevState = RecoveryState.Loss;
        _packetConservation = false;
        _fullBw = 0;
        _roundStart = true;
        _cwnd = _mss;
    }

    /// <inheritdoc/>
    public void Restore(int window, int slowStartThreshold) => _cwnd = Math.Clamp(window, _mss, ICongestionControl.MaxWindow);

    private void SaveWindow()
    {
        if (_prevState == RecoveryState.Open && Mode != BbrMode.ProbeRtt)
            _priorCwnd = _cwnd;
        else
            _priorCwnd = Math.Max(_priorCwnd, _cwnd);
    }

    /// <summary>
    /// One ACK (Linux bbr_main): updates the model from <paramref name="rs"/> and sets the window.
    /// <paramref name="inFlight"/> is the pipe after the ACK; <paramref name="lost"/> the bytes the
    /// ACK's processing newly deemed lost; <paramref name="state"/> the connection's recovery state;
    /// <paramref name="srtt"/> the connection's smoothed RTT if any (the first pacing rate comes from it).
    /// </summary>
    public void Update(in RateSample rs, int inFlight, int lost, RecoveryState state, TimeSpan now, TimeSpan? srtt = null)
    {
        int priorInFlight = inFlight + rs.AckedSacked + lost;
        UpdateBandwidth(rs);
        UpdateAckAggregation(rs);
        if (Mode == BbrMode.ProbeBw && IsNextCyclePhase(rs, priorInFlight, lost))
            AdvanceCyclePhase(rs.DeliveredTime);
        CheckFullBandwidthReached(rs);
        CheckDrain(inFlight, rs.DeliveredTime);
        UpdateMinRtt(rs, inFlight, now);
        UpdateGains();

        double bw = _bw.Value;
        double rate = PacingGain * bw * PacingMargin;
        if (bw == 0 || !_hasSeenRtt)
        {
            // Before any bandwidth sample: Startup's gain over the initial window per RTT (Linux
            // bbr_init_pacing_rate_from_rtt), set once from the first RTT known, 1 ms until then.
            var rtt = _minRtt ?? (srtt is { } s && s > TimeSpan.Zero ? s : (TimeSpan?)null);
            double init = HighGain * _initialWindow / (rtt ?? TimeSpan.FromMilliseconds(1)).TotalSeconds;
            if (!_hasSeenRtt && rtt is not null)
            {
                _hasSeenRtt = true;
                PacingRate = init;
            }
            if (bw == 0)
                rate = init;
        }
        if (FullBandwidthReached || rate > PacingRate)
            PacingRate = rate;

        SetWindow(rs, inFlight, lost, state, bw);
    }

    private void UpdateBandwidth(in RateSample rs)
    {
        _roundStart = false;
        if (!rs.HasSample || rs.Delivered <= 0 || rs.Interval <= TimeSpan.Zero)
            return;
        if (rs.PriorDelivered >= _nextRoundDelivered)
        {
            // The segment that opened this round was delivered: a round trip has passed.
            _nextRoundDelivered = rs.TotalDelivered;
            _roundCount++;
            _roundStart = true;
            _packetConservation = false;
        }
        if (!rs.Valid)
            return;
        double bw = rs.BytesPerSecond;
        // An application-limited sample only counts when it beats the estimate (it is a lower bound).
        if (!rs.IsAppLimited || bw >= _bw.Value)
            _bw.Update(BandwidthWindowRounds, _roundCount, bw);
    }

    private void UpdateAckAggregation(in RateSample rs)
    {
        if (rs.AckedSacked <= 0 || !rs.HasSample || rs.Interval <= TimeSpan.Zero)
            return;
        if (_roundStart)
        {
            _extraAckedRounds = Math.Min(0x1F, _extraAckedRounds + 1);
            if (_extraAckedRounds >= ExtraAckedWindowRounds)
            {
                _extraAckedRounds = 0;
                _extraAckedIndex ^= 1;
                _extraAcked[_extraAckedIndex] = 0;
            }
        }
        long expected = (long)(_bw.Value * (rs.DeliveredTime - _ackEpochStamp).TotalSeconds);
        // A new epoch when ACKs come no faster than the bandwidth explains (or the epoch is stale).
        if (_ackEpochAcked <= expected || _ackEpochAcked + rs.AckedSacked >= (1L << 20) * _mss)
        {
            _ackEpochAcked = 0;
            _ackEpochStamp = rs.DeliveredTime;
            expected = 0;
        }
        _ackEpochAcked += rs.AckedSacked;
        long extra = Math.Min(_ackEpochAcked - expected, _cwnd);
        if (extra > _extraAcked[_extraAckedIndex])
            _extraAcked[_extraAckedIndex] = extra;
    }

    private long AckAggregationWindow(double bw)
    {
        if (!FullBandwidthReached)
            return 0;
        long max = (long)(bw * ExtraAckedMax.TotalSeconds);
        return Math.Min(Math.Max(_extraAcked[0], _extraAcked[1]), max);
    }

    private bool IsNextCyclePhase(in RateSample rs, int priorInFlight, int lost)
    {
        bool fullLength = _minRtt is { } m && rs.DeliveredTime - _cycleStamp > m;
        if (PacingGain == 1.0)
            return fullLength;
        double bw = _bw.Value;
        if (PacingGain > 1.0)
            // Probing: stay until the flight reached 1.25 BDP (or a loss says the queue is full).
            return fullLength && (lost > 0 || priorInFlight >= Inflight(bw, PacingGain));
        // Draining the probe's queue: leave early once the flight is down to one BDP.
        return fullLength || priorInFlight <= Inflight(bw, 1.0);
    }

    private void AdvanceCyclePhase(TimeSpan deliveredTime)
    {
        _cycleIndex = (_cycleIndex + 1) % CycleLength;
        _cycleStamp = deliveredTime;
    }

    private void CheckFullBandwidthReached(in RateSample rs)
    {
        if (FullBandwidthReached || !_roundStart || rs.IsAppLimited)
            return;
        double bw = _bw.Value;
        if (bw >= _fullBw * FullBandwidthGrowth)
        {
            _fullBw = bw;
            _fullBwCount = 0;
            return;
        }
        FullBandwidthReached = ++_fullBwCount >= FullBandwidthRounds;
    }

    private void CheckDrain(int inFlight, TimeSpan deliveredTime)
    {
        if (Mode == BbrMode.Startup && FullBandwidthReached)
            Mode = BbrMode.Drain;
        if (Mode == BbrMode.Drain && inFlight <= Inflight(_bw.Value, 1.0))
            EnterProbeBw(deliveredTime);
    }

    private void EnterProbeBw(TimeSpan deliveredTime)
    {
        Mode = BbrMode.ProbeBw;
        // A random phase other than the 0.75 one (Linux: CYCLE_LEN - 1 - rand(bbr_cycle_rand)), then advance.
        _random ^= _random << 13;
        _random ^= _random >> 17;
        _random ^= _random << 5;
        _cycleIndex = CycleLength - 1 - (int)(_random % (CycleLength - 1));
        AdvanceCyclePhase(deliveredTime);
    }

    private void UpdateMinRtt(in RateSample rs, int inFlight, TimeSpan now)
    {
        bool expired = _minRtt is not null && now > _minRttStamp + MinRttWindow;
        if (rs.Rtt is { } rtt && (_minRtt is not { } m || rtt < m || expired))
        {
            _minRtt = rtt;
            _minRttStamp = now;
        }
        if (expired && Mode != BbrMode.ProbeRtt)
        {
            // Ten seconds without a lower RTT: drain the queue to see the path's own again.
            Mode = BbrMode.ProbeRtt;
            SaveWindow();
            _probeRttDone = null;
        }
        if (Mode != BbrMode.ProbeRtt)
            return;
        if (_probeRttDone is null && inFlight <= MinWindowSegments * _mss)
        {
            _probeRttDone = now + ProbeRttDuration;
            _probeRttRoundDone = false;
            _nextRoundDelivered = rs.TotalDelivered;
        }
        else if (_probeRttDone is { } done)
        {
            if (_roundStart)
                _probeRttRoundDone = true;
            if (_probeRttRoundDone && now > done)
            {
                _minRttStamp = now;
                _cwnd = Math.Max(_cwnd, _priorCwnd);
                if (FullBandwidthReached)
                    EnterProbeBw(rs.DeliveredTime);
                else
                    Mode = BbrMode.Startup;
            }
        }
    }

    private void UpdateGains()
    {
        switch (Mode)
        {
            case BbrMode.Startup:
                PacingGain = HighGain;
                CwndGainNow = HighGain;
                break;
            case BbrMode.Drain:
                PacingGain = DrainGain;
                CwndGainNow = HighGain;
                break;
            case BbrMode.ProbeBw:
                PacingGain = CycleGain(_cycleIndex);
                CwndGainNow = CwndGain;
                break;
            default:
                PacingGain = 1;
                CwndGainNow = 1;
                break;
        }
    }

    /// <summary>gain * BDP, bytes; the initial window while there is no estimate.</summary>
    private long Bdp(double bw, double gain)
    {
        if (_minRtt is not { } rtt || bw == 0)
            return _initialWindow;
        return (long)Math.Ceiling(bw * rtt.TotalSeconds * gain);
    }

    /// <summary>The send quantum in bytes: about a millisecond of data at the pacing rate, two segments to 64 KB (Linux bbr_tso_segs_goal).</summary>
    public int SendQuantum => (int)Math.Clamp((long)(PacingRate / 1024), 2L * _mss, MaxQuantum);

    /// <summary>
    /// Linux bbr_quantization_budget: three send quanta (a millisecond of data at the pacing rate,
    /// two segments to 64 KB) on top, so that batching cannot starve the pipe; two segments more in
    /// the 1.25 phase so that a small BDP still probes.
    /// </summary>
    private long QuantizationBudget(long window)
    {
        window += 3L * SendQuantum;
        if (Mode == BbrMode.ProbeBw && _cycleIndex == 0)
            window += 2L * _mss;
        return window;
    }

    /// <summary>The flight the model wants at <paramref name="gain"/>: BDP plus the quantization budget.</summary>
    private long Inflight(double bw, double gain) => QuantizationBudget(Bdp(bw, gain));

    /// <summary>The window in bytes the model sets now (without the recovery rules): for tests and diagnostics.</summary>
    public long TargetWindow => QuantizationBudget(Bdp(_bw.Value, CwndGainNow) + AckAggregationWindow(_bw.Value));

    /// <summary>The model in one line (for diagnostics, e.g. <c>serve -v</c>).</summary>
    public override string ToString()
    {
        double bw = _bw.Value;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"bbr {Mode} btlbw {bw * 8 / 1e6:F0} Mbit/s rtprop {(_minRtt ?? TimeSpan.Zero).TotalMicroseconds:F0} us bdp {Bdp(bw, 1)} aggregation {AckAggregationWindow(bw)} quantum {SendQuantum} target {TargetWindow} cwnd {_cwnd} rounds {_roundCount}");
    }

    private void SetWindow(in RateSample rs, int inFlight, int lost, RecoveryState state, double bw)
    {
        int acked = rs.AckedSacked;
        long cwnd = _cwnd;
        if (acked > 0)
        {
            // Linux bbr_set_cwnd_to_recover_or_restore.
            if (lost > 0)
                cwnd = Math.Max(cwnd - lost, _mss);
            bool conserve = false;
            if (state == RecoveryState.Recovery && _prevState != RecoveryState.Recovery)
            {
                // The first round of a recovery: packet conservation, and a round starts now.
                _packetConservation = true;
                _nextRoundDelivered = rs.TotalDelivered;
                cwnd = inFlight + acked;
            }
            else if (_prevState != RecoveryState.Open && state == RecoveryState.Open)
            {
                cwnd = Math.Max(cwnd, _priorCwnd);
                _packetConservation = false;
            }
            _prevState = state;
            if (_packetConservation)
            {
                cwnd = Math.Max(cwnd, inFlight + acked);
                conserve = true;
            }
            if (!conserve)
            {
                long target = TargetWindow;
                if (FullBandwidthReached)
                    cwnd = Math.Min(cwnd + acked, target);
                else if (cwnd < target || rs.TotalDelivered < _initialWindow)
                    cwnd += acked;
                cwnd = Math.Max(cwnd, MinWindowSegments * _mss);
            }
        }
        if (Mode == BbrMode.ProbeRtt)
            cwnd = Math.Min(cwnd, MinWindowSegments * _mss);
        _cwnd = (int)Math.Clamp(cwnd, _mss, ICongestionControl.MaxWindow);
    }
}
