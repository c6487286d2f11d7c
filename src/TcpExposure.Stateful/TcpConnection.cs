using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// One TCP connection per RFC 9293: a plain switch over <see cref="TcpState"/>. It never reads a
/// clock and never sends by itself: every entry point takes <c>now</c> (time since an arbitrary
/// epoch), and every segment it emits goes to the <see cref="ISegmentSink"/> before the call
/// returns. The owner keeps one timer per connection and calls <see cref="Poll"/> at
/// <see cref="NextDeadline"/>: the earliest of the retransmission timer (RTO, tail loss probe or
/// persist), RACK's reordering timer, the delayed ACK, keepalive, FIN-WAIT-2 (after
/// <see cref="Close"/>), TIME-WAIT and the user timeout.
/// Loss recovery with a SACK peer is RACK-TLP (RFC 8985, <see cref="Rack"/>) with PRR (RFC 6937)
/// and D-SACK undo (RFC 2883); without SACK it is NewReno (RFC 6582). With BBR
/// (<see cref="CongestionAlgorithm.Bbr"/>) the algorithm owns the window in recovery too: PRR's
/// quota, ssthresh and NewReno's inflation are left out, and every ACK feeds it a delivery rate
/// sample from the transmission record (kept for BBR even without RACK).
/// Not thread-safe: the owner serializes calls.
/// </summary>
public sealed class TcpConnection
{
    private const int DefaultPeerMss = 536; // RFC 9293 3.7.1, when the SYN carries no MSS option

    private readonly TcpConfig _cfg;
    private readonly ISegmentSink _sink;
    private readonly SendBuffer _sndBuf;
    private readonly ReceiveBuffer _rcvBuf;
    private readonly Reassembly _ooo = new();
    private readonly SackScoreboard _scoreboard = new();
    private readonly RttEstimator _rtt;
    private readonly ICongestionControl _cc;
    private readonly BbrCongestionControl? _bbr;   // _cc when it is BBR: fed a rate sample per ACK
    private readonly Rack _rack;
    private readonly Prr _prr = new();

    // RFC 9293 3.3.1 send and receive sequence variables. _sndMax is the highest sequence number
    // sent so far: _sndNxt goes back to SND.UNA after a timeout (go-back-N) while _sndMax stays.
    private readonly SeqNumber _iss;
    private SeqNumber _sndUna, _sndNxt, _sndMax, _sndWl1, _sndWl2;
    private int _sndWnd, _maxSndWnd;
    private SeqNumber _sndBufSeq;     // sequence number of _sndBuf[0]
    private SeqNumber _probeHigh;     // one past a zero-window probe byte sent beyond _sndNxt
    private SeqNumber _irs, _rcvNxt;
    private bool _passiveOpen;

    // Negotiated options.
    private int _peerMss = DefaultPeerMss;
    private int _sndShift, _rcvShift;
    private bool _tsOk, _sackOk;
    private uint _tsRecent;
    private SeqNumber _lastAckSent;
    private int _lastWindowAdvertised;
    private SeqNumber _rcvAdvEdge;    // right edge of the last window we advertised: it never moves left

    private bool _finQueued;          // the application closed its sending side
    private bool _appClosed;          // ... and its receiving side too (Close, not Shutdown): FIN-WAIT-2 is timed
    private bool _finReceived;
    private SeqNumber? _peerFinSeq;   // a FIN that arrived ahead of missing data

    // RTT measurement without timestamps (Karn: only segments never retransmitted).
    private bool _rttTiming;
    private SeqNumber _rttSeq;
    private TimeSpan _rttStart;

    // Loss recovery.
    private int _dupAcks;
    private bool _inRecovery;
    private SeqNumber _recover;
    private SeqNumber _highRxt;
    private SeqNumber _rxtRoundMark;  // SND.MAX when the current round of SACK retransmissions began
    private bool _rtoRecovery;        // after an RTO, until SND.UNA reaches _recover (Linux's TCP_CA_Loss; for BBR)
    private int _ackLostBytes;        // bytes the current ACK's processing newly deemed lost (for BBR)
    private TimeSpan _paceRelease;    // BBR pacing: when the next byte is due at the pacing rate
    private TimeSpan? _paceDeadline;  // armed when pacing held data back

    // D-SACK undo (RFC 2883 section 4, Linux's undo_retrans): the window before the last reduction,
    // and how many of that episode's retransmissions the peer has not yet reported as duplicates.
    private bool _undoValid;
    private int _undoRetrans;
    private SeqNumber _undoMarker;
    private int _priorCwnd, _priorSsthresh;

    // Keepalive (RFC 9293 3.8.4).
    private TimeSpan _lastHeard;
    private TimeSpan _lastKeepAlive;
    private int _keepAliveProbes;

    // Timers; null when not armed.
    private TimeSpan? _rtxDeadline;
    private bool _tlpArmed;           // _rtxDeadline is a probe timeout, not the RTO
    private int _tlpProbes;           // probes sent since the last new ACK
    private SeqNumber _probeStart, _probeEnd; // what the last RACK probe resent
    private bool _persisting;
    private int _persistBackoff;
    private TimeSpan? _delayedAckDeadline;
    private TimeSpan? _timeWaitDeadline;
    private TimeSpan? _finWait2Deadline;
    private TimeSpan? _userTimerBase;
    private bool _ackNow;
    private int _segmentsUnacked;

    private int _challengeAcks;
    private TimeSpan? _challengeWindow;

    /// <summary>A closed connection that will use <paramref name="iss"/> as its initial sequence number.</summary>
    public TcpConnection(TcpConfig config, ISegmentSink sink, uint iss)
    {
        _cfg = config;
        _sink = sink;
        _sndBuf = new SendBuffer(config.SendBufferSize);
        _rcvBuf = new ReceiveBuffer(config.ReceiveBufferSize + ReceiveSlack(config));
        _rtt = new RttEstimator(config.InitialRto, config.MinRto, config.MaxRto);
        _cc = CongestionControlFactory.Create(config.CongestionControl, config.Mss, config.InitialWindowSegments);
        _bbr = _cc as BbrCongestionControl;
        _rack = new Rack(2 * config.SendBufferSize / Math.Max((int)config.Mss, 64));
        _iss = iss;
        _sndUna = _sndNxt = _sndMax = _probeHigh = _recover = iss;
        _sndBufSeq = _iss + 1;
    }

    /// <summary>The RFC 9293 state (section 3.3.2).</summary>
    public TcpState State { get; private set; } = TcpState.Closed;
    /// <summary>Why the connection died, when it did not close gracefully.</summary>
    public TcpError Error { get; private set; }
    /// <summary>The settings this connection was created with.</summary>
    public TcpConfig Config => _cfg;
    /// <summary>ISS: our initial sequence number (the sequence number of our SYN).</summary>
    public SeqNumber InitialSendSequence => _iss;
    /// <summary>IRS: the peer's initial sequence number (that of its SYN); meaningless before the SYN arrives.</summary>
    public SeqNumber InitialReceiveSequence => _irs;
    /// <summary>SND.UNA: the oldest sequence number sent and not yet acknowledged.</summary>
    public SeqNumber SendUnacknowledged => _sndUna;
    /// <summary>SND.NXT: the sequence number of the next byte to send (it moves back to SND.UNA on a retransmission timeout).</summary>
    public SeqNumber SendNext => _sndNxt;
    /// <summary>RCV.NXT: the next sequence number expected from the peer, the one we acknowledge.</summary>
    public SeqNumber ReceiveNext => _rcvNxt;
    /// <summary>The peer's window in bytes (scaled).</summary>
    public int SendWindow => _sndWnd;
    /// <summary>cwnd in bytes (RFC 5681), as the congestion control algorithm holds it.</summary>
    public int CongestionWindow => _cc.Window;
    /// <summary>ssthresh in bytes (RFC 5681); <see cref="int.MaxValue"/> until the first congestion event.</summary>
    public int SlowStartThreshold => _cc.SlowStartThreshold;
    /// <summary>The congestion control algorithm's state (for BBR, its model).</summary>
    public ICongestionControl CongestionControl => _cc;
    /// <summary>The current RTO (RFC 6298), exponential backoff included.</summary>
    public TimeSpan RetransmissionTimeout => _rtt.Rto;
    /// <summary>SRTT (RFC 6298); null until the first round-trip sample.</summary>
    public TimeSpan? SmoothedRtt => _rtt.SmoothedRtt;
    /// <summary>True during a fast recovery episode entered on duplicate ACKs, SACK or RACK (RFC 6582 / 6675 / 8985), until everything sent before it is acknowledged (or an RTO or a D-SACK undo ends it).</summary>
    public bool InRecovery => _inRecovery;
    /// <summary>The MSS the peer announced (536 when it announced none).</summary>
    public int PeerMss => _peerMss;
    /// <summary>Both SYNs carried window scale (RFC 7323 section 2): window fields are shifted by <see cref="SendShift"/> and <see cref="ReceiveShift"/>.</summary>
    public bool WindowScaleEnabled { get; private set; }
    /// <summary>Both SYNs carried timestamps (RFC 7323): every segment carries them, for RTT samples and PAWS.</summary>
    public bool TimestampsEnabled => _tsOk;
    /// <summary>Both SYNs carried SACK-permitted (RFC 2018): SACK blocks are sent and used for loss recovery.</summary>
    public bool SackEnabled => _sackOk;
    /// <summary>The peer's window scale: its window fields are shifted left by this many bits (0 without scaling).</summary>
    public int SendShift => _sndShift;
    /// <summary>Our window scale: the window field we send is our window shifted right by this many bits (0 without scaling).</summary>
    public int ReceiveShift => _rcvShift;

    /// <summary>Segments retransmitted (timeouts, fast retransmits, SACK recovery; SYNs included).</summary>
    public long Retransmissions { get; private set; }
    /// <summary>Retransmission timer expiries (SYN and persist timers excluded).</summary>
    public long Timeouts { get; private set; }
    /// <summary>Loss recovery episodes entered on duplicate ACKs, SACK or RACK (fast retransmits).</summary>
    public long FastRetransmits { get; private set; }
    /// <summary>Tail loss probes sent (RFC 8985 section 7).</summary>
    public long TailLossProbes { get; private set; }
    /// <summary>The largest flight (bytes sent and not cumulatively acknowledged) so far.</summary>
    public long MaxFlightSize { get; private set; }
    /// <summary>Bytes RACK deemed lost from transmission times (RFC 8985), on ACKs and on the reordering timer.</summary>
    public long RackLostBytes { get; private set; }
    /// <summary>Window reductions undone because D-SACKs showed every retransmission of the episode was spurious.</summary>
    public long SpuriousRecoveriesUndone { get; private set; }
    /// <summary>Keepalive probes sent.</summary>
    public long KeepAliveProbes { get; private set; }
    /// <summary>RACK's view (reordering window, RTT) for diagnostics and tests.</summary>
    public Rack RackState => _rack;
    /// <summary>Zero-window probes sent.</summary>
    public long ZeroWindowProbes { get; private set; }
    /// <summary>Segments emitted, of every kind (data, retransmissions, pure ACKs, SYN, FIN, RST, probes).</summary>
    public long SegmentsSent { get; private set; }
    /// <summary>Segments handed to <see cref="Process"/>, acceptable or not.</summary>
    public long SegmentsReceived { get; private set; }
    /// <summary>Application bytes the peer acknowledged.</summary>
    public long BytesAcknowledged { get; private set; }
    /// <summary>Application bytes received in order.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>In-order bytes the application can read.</summary>
    public int BytesAvailable => _rcvBuf.Readable;
    /// <summary>The peer's FIN arrived and every byte before it was read: reads return 0 from now on.</summary>
    public bool ReceiveFinished => _finReceived && _rcvBuf.Readable == 0;
    /// <summary>The peer closed its sending side (FIN received).</summary>
    public bool FinReceived => _finReceived;
    /// <summary>The application may still queue data.</summary>
    public bool CanSend => !_finQueued && State is TcpState.SynSent or TcpState.SynReceived or TcpState.Established or TcpState.CloseWait;
    /// <summary>Room in the send buffer, bytes; 0 once the sending side is closed.</summary>
    public int SendSpace => CanSend ? _sndBuf.Free : 0;
    /// <summary>Bytes written and not yet acknowledged (sent or not).</summary>
    public int SendQueued => _sndBuf.Count;
    /// <summary>The connection reached ESTABLISHED at some point (or later states).</summary>
    public bool IsSynchronized => State is not (TcpState.Closed or TcpState.Listen or TcpState.SynSent or TcpState.SynReceived);
    /// <summary>Came from a passive open (LISTEN).</summary>
    public bool IsPassive => _passiveOpen;

    /// <summary>The earliest time <see cref="Poll"/> has something to do; null when nothing is pending.</summary>
    public TimeSpan? NextDeadline
    {
        get
        {
            if (State == TcpState.Closed)
                return null;
            TimeSpan? d = _rtxDeadline;
            d = Min(d, _delayedAckDeadline);
            d = Min(d, _timeWaitDeadline);
            d = Min(d, _finWait2Deadline);
            if (RackOn)
                d = Min(d, _rack.ReorderDeadline);
            d = Min(d, KeepAliveDeadline);
            d = Min(d, _paceDeadline);
            if (_userTimerBase is { } b)
                d = Min(d, b + _cfg.UserTimeout);
            return d;
        }
    }

    private static int ClampToInt(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    private SeqNumber DataEnd => _sndBufSeq + _sndBuf.Count;
    private bool FinAcked => _finQueued && _sndUna == DataEnd + 1;
    private int FlightSize => _sndMax - _sndUna;
    private int SendMss => Math.Min(_peerMss, (int)_cfg.Mss);
    /// <summary>RACK-TLP, PRR and D-SACK undo drive loss recovery (needs SACK).</summary>
    private bool RackOn => _sackOk && _cfg.Rack;
    /// <summary>The per-segment transmission record is kept: for RACK, and for BBR's delivery rate samples.</summary>
    private bool TrackTransmissions => RackOn || _bbr is not null;
    /// <summary>The congestion control sets the window in recovery too (BBR): no PRR, ssthresh or inflation.</summary>
    private bool CcOwnsRecovery => _cc.OwnsRecovery;
    private bool PacingOn => _cfg.Pacing && _bbr is { PacingRate: > 0 };

    /// <summary>
    /// Pacing holds the next segment: the release time is more than one send quantum ahead (the
    /// quantum goes as a burst, as a GSO segment would); arms the deadline for when it is not.
    /// </summary>
    private bool PacingHolds(TimeSpan now)
    {
        if (!PacingOn)
            return false;
        var horizon = TimeSpan.FromSeconds(_bbr!.SendQuantum / _bbr.PacingRate);
        if (_paceRelease <= now + horizon)
            return false;
        _paceDeadline = _paceRelease - horizon;
        return true;
    }

    /// <summary><paramref name="bytes"/> left now: the release time moves on by their time at the pacing rate.</summary>
    private void Paced(int bytes, TimeSpan now)
    {
        if (PacingOn && bytes > 0)
            _paceRelease = (_paceRelease > now ? _paceRelease : now) + TimeSpan.FromSeconds(bytes / _bbr!.PacingRate);
    }
    /// <summary>Bytes believed in the network with RACK: outstanding less SACKed less deemed lost.</summary>
    private int RackInFlight => Math.Max(0, FlightSize - _rack.SackedBytes - _rack.LostBytes);

    /// <summary>
    /// When the next keepalive probe (or the verdict after the last one) is due: only while the
    /// connection is idle with nothing outstanding, so it never competes with the RTO or persist timer.
    /// </summary>
    private TimeSpan? KeepAliveDeadline
    {
        get
        {
            if (_cfg.KeepAliveIdle is not { } idle || State is not (TcpState.Established or TcpState.CloseWait)
                || _sndMax != _sndUna || _persisting || DataEnd > _sndNxt)
                return null;
            return _keepAliveProbes == 0 ? _lastHeard + idle : _lastKeepAlive + _cfg.KeepAliveInterval;
        }
    }

    // ---------------------------------------------------------------- user calls

    /// <summary>Passive OPEN: CLOSED -> LISTEN. The next SYN handed to <see cref="Process"/> starts the handshake.</summary>
    public void Listen()
    {
        if (State != TcpState.Closed)
            throw new InvalidOperationException($"Listen needs a CLOSED connection; this one is {State}.");
        _passiveOpen = true;
        State = TcpState.Listen;
    }

    /// <summary>Active OPEN: CLOSED -> SYN-SENT, emits the SYN.</summary>
    public void Connect(TimeSpan now)
    {
        if (State != TcpState.Closed)
            throw new InvalidOperationException($"Connect needs a CLOSED connection; this one is {State}.");
        State = TcpState.SynSent;
        _sndUna = _iss;
        _sndNxt = _sndMax = _iss + 1;
        SendSyn(now, ack: false);
        StartRttTiming(_iss, now);
        _rtxDeadline = now + _rtt.Rto;
        _userTimerBase = now;
    }

    /// <summary>Queues application data; returns the bytes taken (0 when the send buffer is full).</summary>
    public int Send(ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (!CanSend)
            throw new InvalidOperationException(_finQueued ? "The connection's sending side is shut down." : $"Cannot send in state {State}.");
        int n = _sndBuf.Write(data);
        if (n > 0)
            Output(now);
        return n;
    }

    /// <summary>Reads in-order data; returns the bytes copied (0 when none is ready).</summary>
    public int Receive(Span<byte> destination, TimeSpan now)
    {
        int n = _rcvBuf.Read(destination);
        if (n > 0 && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): announce the opened window only once it grew
            // by a full segment or half the buffer.
            int grown = RcvFree - _lastWindowAdvertised;
            if (grown >= Math.Min(_cfg.ReceiveBufferSize / 2, (int)_cfg.Mss))
            {
                _ackNow = true;
                Output(now);
            }
        }
        return n;
    }

    /// <summary>
    /// CLOSE (RFC 9293 3.10.4), as close(2): a FIN follows the queued data and the application is
    /// done with the connection, so once our FIN is acknowledged FIN-WAIT-2 lasts at most
    /// <see cref="TcpConfig.FinWait2Timeout"/> (Linux's orphaned sockets).
    /// </summary>
    public void Close(TimeSpan now)
    {
        _appClosed = true;
        if (State == TcpState.FinWait2)
            _finWait2Deadline ??= now + _cfg.FinWait2Timeout; // after a Shutdown
        Shutdown(now);
    }

    /// <summary>
    /// Shuts down our sending side only, as shutdown(SHUT_WR): a FIN follows the queued data and
    /// reads go on; FIN-WAIT-2 waits for the peer's FIN without limit (until <see cref="Close"/>).
    /// </summary>
    public void Shutdown(TimeSpan now)
    {
        switch (State)
        {
            case TcpState.Listen:
            case TcpState.SynSent:
                EnterClosed();
                break;
            case TcpState.SynReceived:
                _finQueued = true; // sent once established
                break;
            case TcpState.Established:
                _finQueued = true;
                State = TcpState.FinWait1;
                Output(now);
                break;
            case TcpState.CloseWait:
                _finQueued = true;
                State = TcpState.LastAck;
                Output(now);
                break;
        }
    }

    /// <summary>ABORT: sends an RST in synchronized states and closes at once.</summary>
    public void Abort(TimeSpan now)
    {
        if (State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait)
            Emit(_sndNxt, default, TcpFlags.Rst, 0, SegmentOptions.None, default, default);
        if (State != TcpState.Closed)
        {
            Error = TcpError.Aborted;
            EnterClosed();
        }
    }

    // ---------------------------------------------------------------- timers

    /// <summary>Runs every timer due at <paramref name="now"/> and emits what they call for.</summary>
    public void Poll(TimeSpan now)
    {
        if (State == TcpState.Closed)
            return;
        if (_timeWaitDeadline is { } tw && now >= tw)
        {
            EnterClosed();
            return;
        }
        if (_finWait2Deadline is { } f2 && now >= f2)
        {
            // The peer never closed its side of a connection nobody reads any more (Linux tcp_fin_timeout).
            EnterClosed();
            return;
        }
        if (_userTimerBase is { } ub && now >= ub + _cfg.UserTimeout)
        {
            Error = TcpError.TimedOut;
            EnterClosed();
            return;
        }
        if (KeepAliveDeadline is { } ka && now >= ka)
        {
            if (_keepAliveProbes >= _cfg.KeepAliveCount)
            {
                // As Linux: tell the peer (should it still be there) and drop the connection.
                Emit(_sndNxt, _rcvNxt, TcpFlags.Rst | TcpFlags.Ack, 0, SegmentOptions.None, default, default);
                Error = TcpError.KeepAliveTimedOut;
                EnterClosed();
                return;
            }
            // An old sequence number (SND.UNA - 1) with no data: out of the peer's window, so it must answer with an ACK.
            Emit(_sndUna - 1, _rcvNxt, TcpFlags.Ack, WindowField(), DataOptions(now), default, default);
            _keepAliveProbes++;
            _lastKeepAlive = now;
            KeepAliveProbes++;
        }
        if (RackOn && _rack.ReorderDeadline is { } ro && now >= ro)
        {
            // RFC 8985 6.3: the reordering timer ran out; mark what is now overdue and repair it.
            RackDetectLoss(now, timer: true);
        }
        if (_rtxDeadline is { } rd && now >= rd)
        {
            _rtxDeadline = null;
            if (_persisting)
                SendZeroWindowProbe(now);
            else if (_tlpArmed)
                SendTailLossProbe(now);
            else
                OnRetransmitTimeout(now);
        }
        if (_delayedAckDeadline is { } da && now >= da)
        {
            _delayedAckDeadline = null;
            _ackNow = true;
        }
        Output(now);
    }

    private void OnRetransmitTimeout(TimeSpan now)
    {
        _tlpArmed = false;
        _rtt.OnTimeout();
        _rttTiming = false; // Karn
        Retransmissions++;
        switch (State)
        {
            case TcpState.SynSent:
                SendSyn(now, ack: false);
                break;
            case TcpState.SynReceived:
                SendSyn(now, ack: true);
                break;
            default:
                if (_sndMax == _sndUna)
                    return;
                Timeouts++;
                SaveUndo();
                _cc.OnRetransmitTimeout(FlightSize, now);
                if (_inRecovery)
                    _rack.OnRecoveryEnd();
                _inRecovery = false;
                _rtoRecovery = true;
                _dupAcks = 0;
                _recover = _sndMax; // RFC 6582 step 1 after a timeout: no fast retransmit for older dup ACKs
                Retransmissions--;   // Output counts the resent segment
                if (RackOn)
                {
                    _rack.MarkAllLost(); // RFC 8985 6.3: Output resends them, one window at a time
                    // Probes again: should this retransmission or its ACK be lost, they find out
                    // long before the doubled RTO.
                    _tlpProbes = 0;
                    ArmRetransmitTimer(now);
                    return;
                }
                _sndNxt = _sndUna;   // go back N (skipping what the peer SACKed); the window is one segment now
                int first = Math.Min(DataEnd - _sndUna, SendMss - DataOptions(now).EncodedLength);
                if (first > 0 && _sndWnd < first)
                {
                    // The peer shrank its window (to zero, say) under data in flight: Output would
                    // send nothing, persist does not start with data outstanding, and the backed-off
                    // timer would run into the user timeout on a live peer. As Linux, the first
                    // unacknowledged segment goes regardless of the window.
                    int max = _sackOk && _scoreboard.TryGetNextSackedStart(_sndUna, out var sacked) ? sacked - _sndUna : int.MaxValue;
                    _sndNxt = _sndUna + RetransmitAt(_sndUna, now, max);
                }
                break;
        }
        _rtxDeadline = now + _rtt.Rto;
    }

    private void SendTailLossProbe(TimeSpan now)
    {
        // RFC 8985 7.3: new data if the window allows, else the last segment again. No backoff,
        // no window change: the point is only to draw an ACK (with SACK) out of the receiver.
        // With RACK the probe is the highest segment not SACKed (else the last one): a duplicate
        // (or a segment past a hole) draws an immediate ACK from any receiver, while new in-order
        // data may wait in a delayed ACK timer, which Linux stretches towards 200 ms on a sparse
        // flow: as long as the RTO that follows the probe. If that segment was lost, resending it
        // repairs the tail; if it arrives, its SACK lets RACK judge every older retransmission.
        _tlpArmed = false;
        _tlpProbes++;
        if (_sndMax != _sndUna)
        {
            TailLossProbes++;
            if (RackOn && _rack.TryGetProbeSegment(out var ls, out var le))
            {
                _probeStart = ls;
                _probeEnd = ls + RetransmitAt(ls, now, le - ls);
                ArmRetransmitTimer(now); // another probe (twice as late) while any is left, else the RTO
                return;
            }
            var dataEnd = DataEnd;
            bool sentNew = false;
            if (dataEnd > _sndNxt && _sndNxt == _sndMax && (_sndUna + _sndWnd) - _sndNxt > 0)
                sentNew = SendNewSegment(now, _cc.Window, 0);
            if (!sentNew)
            {
                int maxPayload = SendMss - DataOptions(now).EncodedLength;
                var last = _sndMax - (_finQueued && _sndMax > dataEnd ? 1 : 0);
                var start = SeqNumber.Max(_sndUna, last - maxPayload);
                if (start == last && last != _sndMax)
                    start = SeqNumber.Max(_sndUna, last - 1); // only the FIN is outstanding: RetransmitAt sends it with no data
                RetransmitAt(start, now);
            }
        }
        _rtxDeadline = now + _rtt.Rto;
    }

    /// <summary>
    /// Probes in a row before the RTO, with RACK; each waits twice the PTO of the one before, and
    /// none is sent once that reaches the RTO. RFC 8985 allows one: but when the probe or its ACK is
    /// lost, as on any lossy path it is now and then, the RTO follows, and on a sub-millisecond
    /// path a 200 ms RTO costs thousands of RTTs and the whole window. A probe is one segment and
    /// changes no state, and the doubling keeps a dead path to a handful of them per RTO.
    /// </summary>
    private const int MaxRackProbes = 8;

    /// <summary>
    /// A probe may replace the next RTO. Unlike RFC 8985 7.2 (and Linux) this holds in RACK fast
    /// recovery too: on short paths receivers coalesce a burst into one ACK (GRO), so one lost ACK
    /// silences a whole flight, in recovery as elsewhere, and a probe after two SRTTs repairs that
    /// far sooner than a 200 ms RTO. So too after a timeout (without RACK: not until an RTT sample
    /// clears the backoff): when the timeout's retransmission or its ACK is lost, probes find out
    /// in milliseconds instead of a doubled RTO, and the doubling PTO still keeps them few.
    /// </summary>
    private bool TlpEligible => _cfg.TailLossProbe && _tlpProbes < (RackOn ? MaxRackProbes : 1) && (!_inRecovery || RackOn)
        && (_rtt.Backoff == 0 || RackOn) && _sndNxt == _sndMax
        && _rtt.SmoothedRtt is not null
        && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck;

    /// <summary>(Re)starts the retransmission timer; the first expiry is a tail loss probe when that applies.</summary>
    private void ArmRetransmitTimer(TimeSpan now)
    {
        var rto = _rtt.Rto;
        _tlpArmed = false;
        if (TlpEligible && _rtt.SmoothedRtt is { } srtt)
        {
            // With RACK the SRTT is timed from transmissions, not from millisecond timestamp echoes.
            if (RackOn && _rack.SmoothedRtt is { } fine)
                srtt = fine;
            // RFC 8985 7.2: PTO = 2 SRTT, plus the peer's worst-case delayed ACK when one segment is
            // out. Not with RACK: its probe is a duplicate, which the peer acknowledges at once, so
            // probing a delayed ACK costs one segment and brings the ACK early.
            var pto = srtt * 2;
            if (FlightSize <= SendMss && !RackOn)
                pto = TimeSpan.FromTicks(Math.Max(pto.Ticks, (srtt * 1.5 + TimeSpan.FromMilliseconds(200)).Ticks));
            if (pto < _cfg.MinProbeTimeout)
                pto = _cfg.MinProbeTimeout;
            for (int i = 0; i < _tlpProbes; i++)
                pto += pto; // each further probe waits twice as long
            if (pto < rto)
            {
                _rtxDeadline = now + pto;
                _tlpArmed = true;
                return;
            }
        }
        _rtxDeadline = now + rto;
    }

    private void SendZeroWindowProbe(TimeSpan now)
    {
        if (_sndWnd == 0 && DataEnd > _sndNxt)
        {
            // RFC 9293 3.8.6.1: one byte of new data past the closed window.
            _sndBuf.Peek(_sndNxt - _sndBufSeq, 1, out var p1, out var p2);
            Emit(_sndNxt, _rcvNxt, TcpFlags.Ack, WindowField(), DataOptions(now), p1, p2);
            _probeHigh = SeqNumber.Max(_probeHigh, _sndNxt + 1);
            _persistBackoff++;
            ZeroWindowProbes++;
        }
        _rtxDeadline = now + PersistInterval;
    }

    private TimeSpan PersistInterval
    {
        get
        {
            var t = _rtt.Rto;
            for (int i = 0; i < _persistBackoff && t < _cfg.MaxRto; i++)
                t += t;
            return t > _cfg.MaxRto ? _cfg.MaxRto : t;
        }
    }

    // ---------------------------------------------------------------- segment arrival

    /// <summary>Handles one arriving segment (RFC 9293 3.10.7) and emits the answers.</summary>
    public void Process(in IncomingSegment seg, TimeSpan now)
    {
        SegmentsReceived++;
        switch (State)
        {
            case TcpState.Closed:
                if (!seg.Flags.Has(TcpFlags.Rst))
                    SendResetFor(seg);
                return;
            case TcpState.Listen:
                ProcessListen(seg, now);
                return;
            case TcpState.SynSent:
                ProcessSynSent(seg, now);
                return;
            default:
                ProcessSynchronized(seg, now);
                return;
        }
    }

    private void ProcessListen(in IncomingSegment seg, TimeSpan now)
    {
        if (seg.Flags.Has(TcpFlags.Rst))
            return;
        if (seg.Flags.Has(TcpFlags.Ack))
        {
            SendResetFor(seg);
            return;
        }
        if (!seg.Flags.Has(TcpFlags.Syn))
            return;
        _irs = seg.Sequence;
        _rcvNxt = _rcvAdvEdge = seg.Sequence + 1;
        NegotiateOptions(seg.Options);
        _sndWnd = seg.Window; // never scaled in a SYN (RFC 7323 2.2)
        _maxSndWnd = _sndWnd;
        _sndWl1 = seg.Sequence;
        _sndUna = _iss;
        _sndNxt = _sndMax = _iss + 1;
        State = TcpState.SynReceived;
        SendSyn(now, ack: true);
        StartRttTiming(_iss, now);
        _rtxDeadline = now + _rtt.Rto;
        _userTimerBase = now;
    }

    private void ProcessSynSent(in IncomingSegment seg, TimeSpan now)
    {
        bool hasAck = seg.Flags.Has(TcpFlags.Ack);
        if (hasAck && (seg.Acknowledgment <= _iss || seg.Acknowledgment > _sndMax))
        {
            if (!seg.Flags.Has(TcpFlags.Rst))
                Emit(seg.Acknowledgment, default, TcpFlags.Rst, 0, SegmentOptions.None, default, default);
            return;
        }
        if (seg.Flags.Has(TcpFlags.Rst))
        {
            if (hasAck)
            {
                Error = TcpError.ConnectionRefused;
                EnterClosed();
            }
            return;
        }
        if (!seg.Flags.Has(TcpFlags.Syn))
            return;
        _irs = seg.Sequence;
        _rcvNxt = _rcvAdvEdge = seg.Sequence + 1;
        NegotiateOptions(seg.Options);
        _sndWnd = seg.Window;
        _maxSndWnd = _sndWnd;
        _sndWl1 = seg.Sequence;
        _sndWl2 = seg.Acknowledgment;
        if (hasAck)
        {
            TakeRttSample(seg, now);
            _sndUna = seg.Acknowledgment;
            _rtxDeadline = null;
            _userTimerBase = null;
            _lastHeard = now;
            EnterEstablished();
            _ackNow = true;
            Output(now);
            return;
        }
        // Simultaneous open (RFC 9293 figure 7): answer with SYN-ACK carrying our original ISS.
        State = TcpState.SynReceived;
        _rttTiming = false;
        SendSyn(now, ack: true);
        _rtxDeadline = now + _rtt.Rto;
    }

    private void ProcessSynchronized(in IncomingSegment seg, TimeSpan now)
    {
        var flags = seg.Flags;
        // A retransmitted SYN while our SYN-ACK is outstanding: the SYN-ACK was lost, resend it now.
        if (State == TcpState.SynReceived && flags.Has(TcpFlags.Syn) && !flags.Has(TcpFlags.Ack)
            && !flags.Has(TcpFlags.Rst) && seg.Sequence == _irs)
        {
            Retransmissions++;
            _rttTiming = false;
            SendSyn(now, ack: true);
            return;
        }

        // 1. Sequence number check (RFC 9293 3.10.7.4), PAWS (RFC 7323 5). With a zero receive
        // window a segment at RCV.NXT carrying data is not acceptable, but "special allowance should
        // be made to accept valid ACKs, URGs, and RSTs": as Linux, its ACK (and RST) are processed
        // and its text (and any FIN after it) dropped, and the ACK we send back repeats the zero window.
        bool dropText = false;
        if (!SequenceAcceptable(seg) && !(dropText = ZeroWindowAllowance(seg)))
        {
            if (!flags.Has(TcpFlags.Rst))
            {
                if (State == TcpState.TimeWait && flags.Has(TcpFlags.Fin))
                    _timeWaitDeadline = now + _cfg.TimeWait;
                SendAck(now);
            }
            return;
        }
        if (_tsOk && seg.Options.HasTimestamps && !flags.Has(TcpFlags.Rst)
            && unchecked((int)(seg.Options.TsVal - _tsRecent)) < 0)
        {
            SendAck(now);
            return;
        }
        // The peer is alive: keepalive starts over.
        _lastHeard = now;
        _keepAliveProbes = 0;

        // 2. RST (RFC 5961 3.2: only an exact match resets, anything else in window gets a challenge ACK).
        if (flags.Has(TcpFlags.Rst))
        {
            if (seg.Sequence != _rcvNxt)
            {
                SendChallengeAck(now);
                return;
            }
            switch (State)
            {
                case TcpState.SynReceived:
                    Error = _passiveOpen ? TcpError.ConnectionReset : TcpError.ConnectionRefused;
                    break;
                case TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait:
                    Error = TcpError.ConnectionReset;
                    break;
            }
            EnterClosed();
            return;
        }

        // 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK, never a reset.
        if (flags.Has(TcpFlags.Syn))
        {
            SendChallengeAck(now);
            return;
        }

        // 5. ACK.
        if (!flags.Has(TcpFlags.Ack))
            return;
        var ack = seg.Acknowledgment;
        var ackHigh = SeqNumber.Max(_sndMax, _probeHigh);
        if (State == TcpState.SynReceived)
        {
            if (!(ack > _sndUna && ack <= ackHigh))
            {
                Emit(ack, default, TcpFlags.Rst, 0, SegmentOptions.None, default, default);
                return;
            }
            EnterEstablished();
            _sndWnd = seg.Window << _sndShift;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            _sndWl1 = seg.Sequence;
            _sndWl2 = ack;
        }
        if (ack > ackHigh)
        {
            SendAck(now);   // acknowledges something not yet sent
            return;
        }
        if (ack < _sndUna - _maxSndWnd)
        {
            SendChallengeAck(now); // RFC 5961 5.2: too old to be believable
            return;
        }
        UpdateTsRecent(seg);
        if (_sackOk && seg.Options.SackCount > 0)
            _scoreboard.Update(_sndUna, ackHigh, seg.Options.Sacks);

        bool windowChanged = false;
        if (_sndWl1 < seg.Sequence || (_sndWl1 == seg.Sequence && _sndWl2 <= ack))
        {
            int wnd = seg.Window << _sndShift;
            windowChanged = wnd != _sndWnd;
            _sndWnd = wnd;
            _maxSndWnd = Math.Max(_maxSndWnd, wnd);
            _sndWl1 = seg.Sequence;
            _sndWl2 = ack;
        }
        if (_persisting)
        {
            _userTimerBase = now; // the peer is alive and answering probes
            if (_sndWnd > 0)
            {
                _persisting = false;
                _persistBackoff = 0;
                _rtxDeadline = null;
            }
        }

        bool newAck = ack > _sndUna;
        if (newAck)
            OnNewAck(seg, now);
        else if (ack == _sndUna && seg.Payload.IsEmpty && !flags.Has(TcpFlags.Fin) && !windowChanged && _sndMax > _sndUna)
            OnDuplicateAck(now);
        _ackLostBytes = 0;
        if (RackOn && IsSynchronized)
            RackOnAck(seg, now, newAck);
        else if (_bbr is not null && IsSynchronized)
            _rack.OnAck(_sndUna, _sackOk ? SacksWithoutDsack(seg) : default, null, now); // delivery accounting only
        if (_bbr is not null && IsSynchronized)
            UpdateBbr(now);

        switch (State)
        {
            case TcpState.FinWait1 when FinAcked:
                State = TcpState.FinWait2;
                if (_appClosed)
                    _finWait2Deadline = now + _cfg.FinWait2Timeout;
                break;
            case TcpState.Closing when FinAcked:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck when FinAcked:
                EnterClosed();
                return;
        }

        if (dropText)
        {
            _ackNow = true;
            Output(now);
            return;
        }

        // 7. Segment text.
        if (!seg.Payload.IsEmpty)
        {
            if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
                ReceiveData(seg.Sequence, seg.Payload, flags, now);
            else
                _ackNow = true;
        }

        // 8. FIN.
        if (flags.Has(TcpFlags.Fin))
        {
            var finSeq = seg.Sequence + seg.Payload.Length;
            if (finSeq == _rcvNxt)
                ProcessFin(now);
            else if (finSeq > _rcvNxt)
            {
                _peerFinSeq = finSeq; // after a hole: acted on once the hole fills
                _ackNow = true;
            }
        }
        Output(now);
    }

    private bool SequenceAcceptable(in IncomingSegment seg)
    {
        int len = seg.SequenceLength;
        int wnd = RcvWnd;
        var seq = seg.Sequence;
        if (len == 0)
            return wnd == 0 ? seq == _rcvNxt : seq.InRange(_rcvNxt, _rcvNxt + wnd);
        if (wnd == 0)
            return seq == _rcvNxt && seg.Payload.IsEmpty; // a bare FIN takes no buffer space (Linux accepts it too)
        return seq.InRange(_rcvNxt, _rcvNxt + wnd) || (seq + len - 1).InRange(_rcvNxt, _rcvNxt + wnd);
    }

    /// <summary>A segment with text at RCV.NXT while our window is zero: its ACK counts, its text does not.</summary>
    private bool ZeroWindowAllowance(in IncomingSegment seg)
        => RcvWnd == 0 && seg.Sequence == _rcvNxt && !seg.Payload.IsEmpty;

    private void UpdateTsRecent(in IncomingSegment seg)
    {
        // RFC 7323 4.3: only from a segment that covers the last ACK we sent.
        if (_tsOk && seg.Options.HasTimestamps && seg.Sequence <= _lastAckSent
            && unchecked((int)(seg.Options.TsVal - _tsRecent)) >= 0)
            _tsRecent = seg.Options.TsVal;
    }

    private void OnNewAck(in IncomingSegment seg, TimeSpan now)
    {
        var ack = seg.Acknowledgment;
        int acked = ack - _sndUna;
        _tlpProbes = 0;
        TakeRttSample(seg, now);
        int dataAcked = 0;
        if (ack > _sndBufSeq)
        {
            int n = dataAcked = Math.Min(ack - _sndBufSeq, _sndBuf.Count);
            _sndBuf.Consume(n);
            _sndBufSeq += n;
            BytesAcknowledged += n;
        }
        _sndUna = ack;
        if (_sndMax < ack)
            _sndMax = ack; // a zero-window probe byte was taken
        if (_sndNxt < ack)
            _sndNxt = ack;
        _scoreboard.Acknowledge(ack);
        int flight = FlightSize;
        if (_rtoRecovery && ack >= _recover)
            _rtoRecovery = false;

        if (_inRecovery)
        {
            if (ack >= _recover)
            {
                // Full acknowledgment (RFC 6582 3.2 step 3; with PRR, RFC 6937: cwnd = ssthresh).
                _inRecovery = false;
                if (RackOn)
                {
                    if (!CcOwnsRecovery)
                        _cc.Window = Math.Max(_cc.SlowStartThreshold, SendMss);
                    _rack.OnRecoveryEnd();
                }
                else if (!CcOwnsRecovery)
                    _cc.Window = Math.Min(_cc.SlowStartThreshold, Math.Max(flight, SendMss) + SendMss);
            }
            else if (!_sackOk)
            {
                // Partial acknowledgment: the next hole is lost too; retransmit it at once.
                RetransmitAt(_sndUna, now);
                if (!CcOwnsRecovery)
                {
                    int w = _cc.Window - acked;
                    if (acked >= SendMss)
                        w += SendMss;
                    _cc.Window = Math.Max(w, SendMss);
                }
            }
        }
        else if (dataAcked > 0) // the SYN's and FIN's sequence numbers do not grow the window
            _cc.OnAck(dataAcked, flight, now, _rtt.SmoothedRtt);
        _dupAcks = 0;

        if (_persisting)
        {
            // The peer took a probe byte but its window is still closed: keep probing.
        }
        else if (_sndMax == _sndUna)
        {
            _rtxDeadline = null;
            _tlpArmed = false;
            _userTimerBase = null;
        }
        else
        {
            ArmRetransmitTimer(now); // RFC 6298 5.3
            _userTimerBase = now;
        }
    }

    private void OnDuplicateAck(TimeSpan now)
    {
        _dupAcks++;
        if (RackOn)
            return; // RACK decides what is lost (RackOnAck), from times rather than a duplicate count
        if (_inRecovery)
        {
            if (!_sackOk && !CcOwnsRecovery)
                _cc.Window = ClampToInt((long)_cc.Window + SendMss); // RFC 6582 3.2 step 4: inflate by one segment per dup ACK
            return;
        }
        bool lost = _dupAcks >= 3 || (_sackOk && _scoreboard.IsLost(_sndUna, SendMss));
        // RFC 6582 3.2 step 2: only when the ACK covers everything sent before the last loss
        // episode (or timeout); older duplicates must not trigger a second reduction.
        if (!lost || _sndUna < _recover)
            return;
        _cc.OnCongestionEvent(FlightSize, now);
        FastRetransmits++;
        _inRecovery = true;
        _recover = _sndMax;
        _rttTiming = false;
        if (_sackOk)
        {
            // RFC 6675 section 5 (4): cwnd = ssthresh; retransmit the first lost segment; the
            // rest is driven by the pipe in Output.
            if (!CcOwnsRecovery)
                _cc.Window = _cc.SlowStartThreshold;
            _rxtRoundMark = _sndMax;
            int len = RetransmitAt(_sndUna, now);
            _highRxt = _sndUna + len;
        }
        else
        {
            RetransmitAt(_sndUna, now);
            if (!CcOwnsRecovery)
                _cc.Window = _cc.SlowStartThreshold + 3 * SendMss;
        }
    }

    /// <summary>
    /// RACK-TLP's part of every ACK (RFC 8985 6.2): update the transmission record from the cumulative
    /// ACK and SACK blocks, act on a D-SACK, mark what is now lost, and enter recovery or feed PRR.
    /// </summary>
    private void RackOnAck(in IncomingSegment seg, TimeSpan now, bool newAck)
    {
        var sacks = seg.Options.Sacks;
        bool dsack = sacks.Length > 0 && IsDsack(sacks, seg.Acknowledgment);
        TimeSpan? echoSentBefore = null;
        if (_tsOk && seg.Options.HasTimestamps && seg.Options.TsEcr != 0)
        {
            // Our timestamps count milliseconds: the echoed segment left before the end of that millisecond.
            uint age = unchecked(TsClock(now) - seg.Options.TsEcr);
            if (age < 0x7FFFFFFF)
                echoSentBefore = now - TimeSpan.FromMilliseconds(age) + TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - (now.Ticks % TimeSpan.TicksPerMillisecond));
        }
        int delivered = _rack.OnAck(_sndUna, dsack ? sacks[1..] : sacks, echoSentBefore, now);
        if (dsack)
            OnDsack(sacks[0]);
        if (newAck && _tlpArmed)
            ArmRetransmitTimer(now); // OnNewAck armed the probe before this ACK's RTT sample
        RackDetectLoss(now, timer: false, delivered);
        if (delivered > 0 && _tlpProbes > 0 && _sndMax != _sndUna)
        {
            // SACKed data is an answer too: the path works, so probing may start over (the
            // cumulative ACK that RFC 8985 waits for may be stuck behind a lost retransmission).
            _tlpProbes = 0;
            if (TlpEligible)
                ArmRetransmitTimer(now);
        }
    }

    /// <summary>Marks losses (RFC 8985 6.2 step 5), starts fast recovery on the first, and sets the PRR quota.</summary>
    private void RackDetectLoss(TimeSpan now, bool timer, int delivered = 0)
    {
        int lost = _rack.DetectLoss(now, _inRecovery, _rtt.SmoothedRtt);
        RackLostBytes += lost;
        _ackLostBytes += lost;
        if (!_inRecovery && _rack.LostBytes > 0 && _sndUna >= _recover)
        {
            // A new loss episode (RFC 6582: not for losses from before the last one or a timeout).
            SaveUndo();
            _cc.OnCongestionEvent(FlightSize, now);
            FastRetransmits++;
            _inRecovery = true;
            _recover = _sndMax;
            _rttTiming = false;
            _prr.Start(FlightSize);
        }
        if (_inRecovery)
        {
            _prr.OnAck(delivered, RackInFlight, _cc.SlowStartThreshold, SendMss);
            if (timer && lost > 0)
                _prr.AllowOne(SendMss); // no ACK clocks this one out
            if (!CcOwnsRecovery)
                _cc.Window = Math.Max(ClampToInt((long)RackInFlight + _prr.Quota), SendMss); // what cwnd means during PRR
        }
        if (timer)
            Output(now);
    }

    private ReadOnlySpan<SackBlock> SacksWithoutDsack(in IncomingSegment seg)
    {
        var sacks = seg.Options.Sacks;
        return sacks.Length > 0 && IsDsack(sacks, seg.Acknowledgment) ? sacks[1..] : sacks;
    }

    /// <summary>The pipe: sent, not acknowledged, SACKed or deemed lost.</summary>
    private int InFlight => TrackTransmissions ? RackInFlight : FlightSize;

    /// <summary>BBR's part of an ACK: the rate sample from the transmission record, the pipe, and where recovery is.</summary>
    private void UpdateBbr(TimeSpan now)
    {
        var state = _inRecovery ? RecoveryState.Recovery : _rtoRecovery ? RecoveryState.Loss : RecoveryState.Open;
        int inFlight = InFlight;
        _bbr!.Update(in _rack.LastRateSample, inFlight, _ackLostBytes, state, now, _rack.SmoothedRtt ?? _rtt.SmoothedRtt);
        if (_bbr.Mode == BbrMode.ProbeRtt)
            _rack.MarkAppLimited(inFlight); // ProbeRTT's low rate samples must not lower the estimate
    }

    /// <summary>RFC 2883 section 4: the first block reports a duplicate when it lies below the ACK or inside the second block.</summary>
    private static bool IsDsack(ReadOnlySpan<SackBlock> sacks, SeqNumber ack)
    {
        var first = sacks[0];
        if (first.Right <= ack)
            return true;
        return sacks.Length > 1 && first.Left >= sacks[1].Left && first.Right <= sacks[1].Right;
    }

    /// <summary>A window reduction starts: remember the window so that D-SACKs can undo it.</summary>
    private void SaveUndo()
    {
        _undoValid = true;
        _undoRetrans = 0;
        _undoMarker = _sndUna;
        _priorCwnd = _cc.Window;
        _priorSsthresh = _cc.SlowStartThreshold;
    }

    private void OnDsack(SackBlock block)
    {
        // The duplicate of a tail loss probe only says the tail had arrived (RFC 8985 7.4): no
        // reordering, no spurious recovery.
        if (block.Left >= _probeStart && block.Right <= _probeEnd)
            return;
        _rack.OnDsack();
        // Only duplicates of this episode's retransmissions count (not of a later tail loss probe).
        if (!_undoValid || block.Left < _undoMarker || block.Left >= _recover || _undoRetrans <= 0)
            return;
        int segments = Math.Max(1, (block.Right - block.Left + SendMss - 1) / SendMss);
        _undoRetrans -= segments;
        if (_undoRetrans > 0)
            return;
        // Every retransmission of the episode reached a peer that already had the data: the
        // reduction was spurious (RFC 2883 section 4.3; Linux tcp_try_undo_dsack).
        _undoValid = false;
        _cc.Restore(Math.Max(_cc.Window, _priorCwnd), Math.Max(_cc.SlowStartThreshold, _priorSsthresh));
        if (_inRecovery)
        {
            _inRecovery = false;
            _rack.OnRecoveryEnd();
        }
        SpuriousRecoveriesUndone++;
    }

    private void TakeRttSample(in IncomingSegment seg, TimeSpan now)
    {
        if (_tsOk && seg.Options.HasTimestamps && seg.Options.TsEcr != 0)
        {
            uint delta = unchecked(TsClock(now) - seg.Options.TsEcr);
            if (delta < 0x7FFFFFFF)
            {
                _rtt.AddSample(TimeSpan.FromMilliseconds(delta));
                _rttTiming = false;
                return;
            }
        }
        if (_rttTiming && seg.Acknowledgment > _rttSeq)
        {
            _rtt.AddSample(now - _rttStart);
            _rttTiming = false;
        }
    }

    private void ReceiveData(SeqNumber seq, ReadOnlySpan<byte> payload, TcpFlags flags, TimeSpan now)
    {
        int off = seq - _rcvNxt;
        if (off < 0)
        {
            payload = payload[Math.Min(-off, payload.Length)..];
            off = 0;
        }
        // What lies past the window is trimmed (RFC 9293 3.10.7.4), though the buffer's slack could hold it.
        int room = Math.Max(0, RcvWnd - off);
        if (payload.Length > room)
            payload = payload[..room];
        int stored = _rcvBuf.WriteAt(off, payload);
        if (stored == 0)
        {
            _ackNow = true;
            return;
        }
        if (off > 0)
        {
            // Out of order: keep it, answer with a duplicate ACK carrying SACK blocks (RFC 5681 4.2).
            _ooo.Add(seq, seq + stored);
            _ackNow = true;
            return;
        }
        bool hadHoles = !_ooo.IsEmpty;
        var next = _ooo.Advance(_rcvNxt + stored);
        int committed = next - _rcvNxt;
        _rcvBuf.CommitReadable(committed);
        _rcvNxt = next;
        BytesReceived += committed;
        if (hadHoles || _cfg.DelayedAck <= TimeSpan.Zero)
            _ackNow = true;
        else if (++_segmentsUnacked >= 2)
            _ackNow = true; // RFC 5681 4.2: at least every second full segment
        else
            _delayedAckDeadline ??= now + _cfg.DelayedAck;
        if (_peerFinSeq is { } fin && fin == _rcvNxt)
            ProcessFin(now);
    }

    private void ProcessFin(TimeSpan now)
    {
        _peerFinSeq = null;
        _rcvNxt += 1;
        _finReceived = true;
        _ackNow = true;
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
                State = TcpState.CloseWait;
                break;
            case TcpState.FinWait1:
                if (FinAcked)
                    EnterTimeWait(now);
                else
                    State = TcpState.Closing;
                break;
            case TcpState.FinWait2:
                EnterTimeWait(now);
                break;
            case TcpState.TimeWait:
                _timeWaitDeadline = now + _cfg.TimeWait;
                break;
        }
    }

    // ---------------------------------------------------------------- state changes

    private void EnterEstablished()
    {
        State = _finQueued ? TcpState.FinWait1 : TcpState.Established;
        _recover = _sndUna;
    }

    private void EnterTimeWait(TimeSpan now)
    {
        State = TcpState.TimeWait;
        _rtxDeadline = null;
        _finWait2Deadline = null;
        _userTimerBase = null;
        _persisting = false;
        _timeWaitDeadline = now + _cfg.TimeWait;
    }

    private void EnterClosed()
    {
        State = TcpState.Closed;
        _rtxDeadline = null;
        _delayedAckDeadline = null;
        _timeWaitDeadline = null;
        _finWait2Deadline = null;
        _userTimerBase = null;
        _persisting = false;
        _ackNow = false;
    }

    private void NegotiateOptions(in SegmentOptions peer)
    {
        _peerMss = peer.Mss != 0 ? peer.Mss : DefaultPeerMss;
        WindowScaleEnabled = _cfg.WindowScaling && peer.WindowScale >= 0;
        if (WindowScaleEnabled)
        {
            _sndShift = peer.WindowScale;
            _rcvShift = _cfg.ReceiveWindowShift;
        }
        _tsOk = _cfg.Timestamps && peer.HasTimestamps;
        if (_tsOk)
            _tsRecent = peer.TsVal;
        _sackOk = _cfg.Sack && peer.SackPermitted;
    }

    // ---------------------------------------------------------------- output

    /// <summary>Sends whatever the windows allow: new data, retransmissions in recovery, FIN, or a pending ACK.</summary>
    private void Output(TimeSpan now)
    {
        bool sent = false;
        if (_paceDeadline <= now)
            _paceDeadline = null;
        if (State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)
        {
            while (RackOn)
            {
                if (_paceDeadline is not null || PacingHolds(now))
                    break;
                // RACK (RFC 8985) with PRR (RFC 6937): what RACK deemed lost goes first, then new data;
                // in recovery PRR's quota limits both, otherwise the congestion window does.
                int pipe = RackInFlight;
                // (No Limited Transmit: SACKed segments already leave the pipe.)
                int budget = _inRecovery && !CcOwnsRecovery ? _prr.Quota : _cc.Window - pipe;
                if (_rack.TryGetFirstLost(out var ls, out var le))
                {
                    int want = Math.Min(le - ls, SendMss - DataOptions(now).EncodedLength);
                    if (budget < want)
                        break;
                    int n = RetransmitAt(ls, now, le - ls);
                    if (n == 0)
                        break;
                    if (_inRecovery)
                        _prr.OnSent(n);
                    Paced(n, now);
                    sent = true;
                    continue;
                }
                var before = _sndMax;
                var nxtBefore = _sndNxt;
                if (!SendNewSegment(now, budget, pipe))
                    break;
                if (_inRecovery)
                    _prr.OnSent(_sndMax - before);
                Paced(_sndNxt - nxtBefore, now);
                sent = true;
            }
            while (!RackOn)
            {
                int pipe = _sndNxt - _sndUna;
                if (_inRecovery && _sackOk)
                {
                    // Lost retransmission (the idea of RFC 8985 RACK): three segments sent after this
                    // round of retransmissions began were SACKed while holes below HighRxt remain,
                    // so those retransmissions were lost too. Start a new round over the holes.
                    if (_highRxt > _sndUna && _scoreboard.SackedBytesAbove(_rxtRoundMark) > 2 * SendMss)
                    {
                        _highRxt = _sndUna;
                        _rxtRoundMark = _sndMax;
                    }
                    pipe = _scoreboard.Pipe(_sndUna, _sndMax, _highRxt, SendMss);
                    if (_cc.Window - pipe < SendMss)
                        break;
                    // RFC 6675 NextSeg: (1) a lost hole above HighRxt, (2) new data, (3) any hole above HighRxt.
                    var from = SeqNumber.Max(_highRxt, _sndUna);
                    bool hole = _scoreboard.NextHole(from, out var hs, out var he);
                    if (hole && _scoreboard.IsLost(hs, SendMss))
                    {
                        _highRxt = hs + Math.Max(RetransmitAt(hs, now, he - hs), 1);
                        sent = true;
                        continue;
                    }
                    if (SendNewSegment(now, _cc.Window - pipe, pipe))
                    {
                        sent = true;
                        continue;
                    }
                    if (hole)
                    {
                        _highRxt = hs + Math.Max(RetransmitAt(hs, now, he - hs), 1);
                        sent = true;
                        continue;
                    }
                    break;
                }
                if (_sackOk && _sndNxt < _sndMax && !_scoreboard.IsEmpty)
                {
                    // Resending after a timeout: what the peer SACKed is neither resent nor in flight.
                    while (_scoreboard.TryGetSackedEnd(_sndNxt, out var sackedEnd))
                        _sndNxt = SeqNumber.Min(sackedEnd, _sndMax);
                    pipe -= _scoreboard.SackedBytesBelow(_sndNxt);
                }
                // In long: a window near int.MaxValue (an unbounded slow start) plus Limited Transmit
                // wrapped negative and sent nothing.
                if (!SendNewSegment(now, ClampToInt((long)_cc.Window + LimitedTransmit - pipe), pipe))
                    break;
                sent = true;
            }
            if (_bbr is not null && DataEnd - _sndNxt < SendMss && InFlight < _cc.Window && _rack.LostBytes == 0)
                _rack.MarkAppLimited(InFlight); // the application, not the path, limits what the next samples see
            if (!sent && !_persisting && _rtxDeadline is null && _sndWnd == 0 && DataEnd > _sndNxt && _sndMax == _sndUna)
            {
                // Zero window with data waiting and nothing in flight: the persist timer (RFC 9293 3.8.6.1).
                _persisting = true;
                _rtxDeadline = now + PersistInterval;
                _userTimerBase = now;
            }
        }
        if (!sent && _ackNow && State != TcpState.Closed && State != TcpState.Listen && State != TcpState.SynSent)
            SendAck(now);
    }

    /// <summary>
    /// Limited Transmit (RFC 3042): each of the first two duplicate ACKs lets one new segment out
    /// beyond cwnd, so that a small window still produces the three duplicates fast retransmit needs.
    /// </summary>
    private int LimitedTransmit => _inRecovery || _sndNxt < _sndMax ? 0 : Math.Min(_dupAcks, 2) * SendMss;

    /// <summary>
    /// Sends one segment of new (or, after a timeout, resent) data and/or the FIN within
    /// <paramref name="budget"/> bytes of congestion allowance; false when nothing may go.
    /// </summary>
    private bool SendNewSegment(TimeSpan now, int budget, int flight)
    {
        var dataEnd = DataEnd;
        int unsent = dataEnd - _sndNxt;
        bool finPending = _finQueued && _sndNxt <= dataEnd;
        if (unsent <= 0 && !finPending)
            return false;
        var opts = DataOptions(now);
        int maxPayload = SendMss - opts.EncodedLength;
        int rwndAvail = (_sndUna + _sndWnd) - _sndNxt;
        int len = Math.Max(0, Math.Min(Math.Min(unsent, maxPayload), Math.Min(rwndAvail, budget)));
        if (_sackOk && _sndNxt < _sndMax && _scoreboard.TryGetNextSackedStart(_sndNxt, out var nextSacked))
            len = Math.Min(len, nextSacked - _sndNxt); // resend up to the next SACKed range only
        if (len == 0 && !(unsent <= 0 && finPending))
            return false;
        // Sender SWS avoidance (RFC 9293 3.8.6.2.1): a short segment only when it empties the queue
        // or nothing is in flight.
        if (len < maxPayload && len < unsent && flight > 0)
            return false;
        bool fin = finPending && _sndNxt + len == dataEnd;
        var flags = TcpFlags.Ack;
        if (len > 0 && _sndNxt + len == dataEnd)
            flags |= TcpFlags.Psh;
        if (fin)
            flags |= TcpFlags.Fin;
        ReadOnlySpan<byte> p1 = default, p2 = default;
        if (len > 0)
            _sndBuf.Peek(_sndNxt - _sndBufSeq, len, out p1, out p2);
        bool retransmission = _sndNxt < _sndMax;
        if (retransmission)
        {
            Retransmissions++;
            _rttTiming = false;
        }
        else if (!_rttTiming && !_tsOk)
            StartRttTiming(_sndNxt, now);
        if (_sndMax == _sndUna)
            _userTimerBase = now;
        Emit(_sndNxt, _rcvNxt, flags, WindowField(), opts, p1, p2);
        if (TrackTransmissions)
            _rack.OnSent(_sndNxt, _sndNxt + len + (fin ? 1 : 0), now);
        _sndNxt += len + (fin ? 1 : 0);
        if (_sndNxt > _sndMax)
        {
            _sndMax = _sndNxt;
            if (FlightSize > MaxFlightSize)
                MaxFlightSize = FlightSize;
        }
        if (_rtxDeadline is null || _tlpArmed || (!retransmission && TlpEligible))
            ArmRetransmitTimer(now); // a probe timeout follows the newest segment (RFC 8985 7.2)
        return true;
    }

    /// <summary>Resends the segment starting at <paramref name="seq"/> (at most <paramref name="maxLen"/> bytes) without moving SND.NXT.</summary>
    private int RetransmitAt(SeqNumber seq, TimeSpan now, int maxLen = int.MaxValue)
    {
        var dataEnd = DataEnd;
        var opts = DataOptions(now);
        int len = Math.Max(0, Math.Min(Math.Min(dataEnd - seq, SendMss - opts.EncodedLength), maxLen));
        bool fin = _finQueued && seq + len == dataEnd && _sndMax > dataEnd;
        if (len == 0 && !fin)
            return 0;
        var flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0);
        if (len > 0 && seq + len == dataEnd)
            flags |= TcpFlags.Psh;
        ReadOnlySpan<byte> p1 = default, p2 = default;
        if (len > 0)
            _sndBuf.Peek(seq - _sndBufSeq, len, out p1, out p2);
        Retransmissions++;
        _rttTiming = false;
        if (_undoValid && (_inRecovery || _sndUna < _recover))
            _undoRetrans++;
        Emit(seq, _rcvNxt, flags, WindowField(), opts, p1, p2);
        if (TrackTransmissions)
            _rack.OnSent(seq, seq + len + (fin ? 1 : 0), now);
        _rtxDeadline ??= now + _rtt.Rto;
        return len + (fin ? 1 : 0);
    }

    private void SendSyn(TimeSpan now, bool ack)
    {
        var o = SegmentOptions.None;
        o.Mss = _cfg.Mss;
        if (!ack)
        {
            if (_cfg.WindowScaling) o.WindowScale = _cfg.ReceiveWindowShift;
            o.SackPermitted = _cfg.Sack;
            if (_cfg.Timestamps) { o.HasTimestamps = true; o.TsVal = TsClock(now); }
        }
        else
        {
            if (WindowScaleEnabled) o.WindowScale = _rcvShift;
            o.SackPermitted = _sackOk;
            if (_tsOk) { o.HasTimestamps = true; o.TsVal = TsClock(now); o.TsEcr = _tsRecent; }
        }
        var flags = ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn;
        ushort window = (ushort)Math.Min(RcvFree, 65535); // SYN windows are never scaled
        Emit(_iss, ack ? _rcvNxt : default, flags, window, o, default, default);
    }

    private void SendAck(TimeSpan now)
        => Emit(_sndNxt, _rcvNxt, TcpFlags.Ack, WindowField(), DataOptions(now), default, default);

    private void SendChallengeAck(TimeSpan now)
    {
        // RFC 5961 section 7: a global-ish budget per second keeps this from being an amplifier.
        if (_challengeWindow is not { } w || now - w >= TimeSpan.FromSeconds(1))
        {
            _challengeWindow = now;
            _challengeAcks = 0;
        }
        if (_challengeAcks++ < _cfg.ChallengeAckLimit)
            SendAck(now);
    }

    private void SendResetFor(in IncomingSegment seg)
    {
        if (seg.Flags.Has(TcpFlags.Ack))
            Emit(seg.Acknowledgment, default, TcpFlags.Rst, 0, SegmentOptions.None, default, default);
        else
            Emit(default, seg.Sequence + seg.SequenceLength, TcpFlags.Rst | TcpFlags.Ack, 0, SegmentOptions.None, default, default);
    }

    private SegmentOptions DataOptions(TimeSpan now)
    {
        var o = SegmentOptions.None;
        if (_tsOk)
        {
            o.HasTimestamps = true;
            o.TsVal = TsClock(now);
            o.TsEcr = _tsRecent;
        }
        if (_sackOk && !_ooo.IsEmpty)
            o.SackCount = _ooo.GetSackBlocks(o.SackBlocks, _tsOk ? 3 : 4);
        return o;
    }

    /// <summary>
    /// Room past <see cref="TcpConfig.ReceiveBufferSize"/> for what a scaled window offers beyond it.
    /// Window fields count units of 2^shift, and keeping the right edge where it was means rounding
    /// up: by less than a unit once, but while the application does not read, each in-order segment
    /// whose length is not a whole number of units may push the edge right again by up to a unit
    /// (RFC 7323 appendix F; Linux and FreeBSD do the same and overcommit their buffers). Two units
    /// cover the rounding; a sixteenth of the buffer covers a buffer's worth of odd-sized segments.
    /// </summary>
    private static int ReceiveSlack(TcpConfig config)
    {
        int unit = 1 << config.ReceiveWindowShift;
        return config.WindowScaling && unit > 1 ? Math.Max(2 * (unit - 1), config.ReceiveBufferSize / 16) : 0;
    }

    /// <summary>Room in the receive buffer as configured (<see cref="TcpConfig.ReceiveBufferSize"/> less unread data).</summary>
    private int RcvFree => Math.Max(0, _cfg.ReceiveBufferSize - _rcvBuf.Readable);

    /// <summary>
    /// RCV.WND, what we accept past RCV.NXT: the window last advertised (its right edge stays where
    /// it was) or the free room when that is more, within what the buffer can physically hold.
    /// </summary>
    private int RcvWnd => Math.Min(Math.Max(RcvFree, _rcvAdvEdge - _rcvNxt), _rcvBuf.Window);

    /// <summary>
    /// The window field: RFC 7323 2.4 and RFC 9293 3.8.6.2.2 say the right edge must not move left,
    /// so the window is never less than (last right edge - RCV.NXT), and it is rounded up to a
    /// whole unit of 2^shift, as Linux tcp_select_window does (rounding down would shrink it on
    /// every ACK whose window is not a multiple of the unit, and offer zero below one unit). Only
    /// when a peer's run of odd-sized segments, unread, has pushed the edge to the end of the
    /// buffer's slack (<see cref="ReceiveSlack"/>) is it held within the buffer, which may then take
    /// back less than one unit.
    /// </summary>
    private ushort WindowField()
    {
        int want = Math.Max(RcvFree, _rcvAdvEdge - _rcvNxt);
        int field = (int)(((long)want + (1 << _rcvShift) - 1) >> _rcvShift);
        field = Math.Min(field, _rcvBuf.Window >> _rcvShift);
        return (ushort)Math.Min(field, 65535);
    }

    private uint TsClock(TimeSpan now) => unchecked((uint)(now.Ticks / TimeSpan.TicksPerMillisecond) + _cfg.TimestampOffset);

    private void StartRttTiming(SeqNumber seq, TimeSpan now)
    {
        _rttTiming = true;
        _rttSeq = seq;
        _rttStart = now;
    }

    private void Emit(SeqNumber seq, SeqNumber ack, TcpFlags flags, ushort window, in SegmentOptions options,
        ReadOnlySpan<byte> p1, ReadOnlySpan<byte> p2)
    {
        if (flags.Has(TcpFlags.Ack))
        {
            _lastAckSent = ack;
            _lastWindowAdvertised = window << _rcvShift;
            if (flags.Has(TcpFlags.Syn))
                _lastWindowAdvertised = window;
            if (!flags.Has(TcpFlags.Rst))
                _rcvAdvEdge = ack + _lastWindowAdvertised;
            _ackNow = false;
            _delayedAckDeadline = null;
            _segmentsUnacked = 0;
        }
        SegmentsSent++;
        _sink.Send(new OutgoingSegment(seq, ack, flags, window, options, p1, p2));
    }
}
