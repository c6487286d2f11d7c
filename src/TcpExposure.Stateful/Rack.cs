using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>
/// RACK time-based loss detection (RFC 8985 section 6) over a per-segment transmission record.
/// Every segment sent (new or retransmitted) is recorded with its last transmission time; an ACK
/// delivers segments (cumulatively or by SACK), and the most recently sent delivered segment
/// becomes the RACK reference: any segment sent before it that is still outstanding after
/// RACK.rtt + RACK.reo_wnd is deemed lost. What is not yet overdue arms the reordering timer
/// (<see cref="ReorderDeadline"/>). Loss is thus found from time, not from counting duplicate
/// ACKs, so lost retransmissions and losses in short flights are repaired without an RTO.
/// The same record estimates the delivery rate (draft-cheng-iccrg-delivery-rate-estimation): each
/// transmission snapshots the connection's delivered count and time, and each ACK yields a
/// <see cref="RateSample"/> from the most recently sent segment it delivered (for BBR).
/// Like the connection it never reads a clock: every call takes <c>now</c>. The record is a ring
/// of structs, allocated once (it only grows if a window holds more segments than expected).
/// </summary>
public sealed class Rack
{
    private const int DupThresh = 3;
    /// <summary>RFC 8985 6.2 step 4: a D-SACK widens the window for this many recoveries.</summary>
    private const int ReoWndPersist = 16;

    [Flags]
    private enum Marks : byte
    {
        None = 0,
        Sacked = 1,
        /// <summary>Deemed lost and not retransmitted since.</summary>
        Lost = 2,
        Retransmitted = 4,
    }

    private struct Segment
    {
        public SeqNumber Start, End;
        public TimeSpan Xmit;
        /// <summary>Transmission order: "sent after" compares this, so two sends in the same clock tick still order.</summary>
        public long Order;
        public Marks Marks;
        // Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation): the connection's
        // delivery state when this segment was (last) sent.
        public long Delivered;
        public TimeSpan DeliveredTime, FirstSentTime;
        public bool AppLimited;
        public readonly int Length => End - Start;
    }

    private Segment[] _ring;
    private int _head, _count;

    // RFC 8985 6.1 per-connection state.
    private bool _hasReference;
    private TimeSpan _xmitTs;          // RACK.xmit_ts
    private long _order;               // transmission order of the reference (stands in for RACK.end_seq's tie-break)
    private long _sends;
    private TimeSpan _rtt;             // RACK.rtt
    private SeqNumber _fack;           // highest end sequence delivered (RACK.fack)
    private bool _reorderingSeen;      // RACK.reord
    private int _reoWndMult = 1;
    private int _reoWndPersist;

    // Delivery rate estimation, connection state (C.delivered, C.delivered_time, C.first_sent_time,
    // C.app_limited) and the sample being built from the current ACK.
    private long _delivered;
    private TimeSpan _deliveredTime, _firstSentTime;
    private long _appLimitedUntil;
    private RateSample _rs;
    private long _rsOrder;

    /// <summary>A record sized for <paramref name="expectedSegments"/> segments in flight.</summary>
    public Rack(int expectedSegments)
    {
        int n = 16;
        while (n < expectedSegments)
            n <<= 1;
        _ring = new Segment[n];
    }

    /// <summary>Bytes in recorded segments the peer SACKed.</summary>
    public int SackedBytes { get; private set; }
    /// <summary>Bytes deemed lost and not yet retransmitted: they are not in the network.</summary>
    public int LostBytes { get; private set; }
    /// <summary>Segments the peer SACKed.</summary>
    public int SackedSegments { get; private set; }
    /// <summary>Segments in the record (sent, not cumulatively acknowledged).</summary>
    public int Count => _count;
    /// <summary>The smallest RTT measured on a segment sent once; null before any.</summary>
    public TimeSpan? MinRtt { get; private set; }
    /// <summary>RACK.rtt: the RTT of the most recently sent segment delivered.</summary>
    public TimeSpan Rtt => _rtt;
    /// <summary>
    /// RACK.rtt smoothed over ACKs (gain 1/8, as RFC 6298's SRTT); null before any sample. Measured
    /// from transmission times, it resolves sub-millisecond paths, where SRTT from millisecond
    /// timestamp echoes is mostly zero or one tick (Linux likewise times its RTT in microseconds).
    /// </summary>
    public TimeSpan? SmoothedRtt { get; private set; }
    /// <summary>The reordering window used by the last <see cref="DetectLoss"/>.</summary>
    public TimeSpan ReorderWindow { get; private set; }
    /// <summary>Whether the peer was seen delivering out of order (RACK.reord).</summary>
    public bool ReorderingSeen => _reorderingSeen;
    /// <summary>When the reordering timer fires (a not-yet-overdue segment becomes lost); null when unarmed.</summary>
    public TimeSpan? ReorderDeadline { get; set; }

    /// <summary>Bytes delivered so far (C.delivered): cumulatively acknowledged or SACKed, each byte once.</summary>
    public long Delivered => _delivered;
    /// <summary>The rate sample of the last <see cref="OnAck"/>.</summary>
    public ref readonly RateSample LastRateSample => ref _rs;
    /// <summary>Whether the sender is marked application-limited (the bubble has not yet been delivered).</summary>
    public bool AppLimited => _appLimitedUntil != 0;

    /// <summary>
    /// The sender has less than a segment to send and the window is not full: samples of what is in
    /// flight now measure the application, not the path (draft-cheng 3.4 / Linux tcp_rate_check_app_limited).
    /// </summary>
    public void MarkAppLimited(int inFlight) => _appLimitedUntil = Math.Max(_delivered + inFlight, 1);

    /// <summary>Forgets every segment and the RACK reference (the connection starts over).</summary>
    public void Clear()
    {
        _head = _count = 0;
        SackedBytes = LostBytes = SackedSegments = 0;
        _hasReference = false;
        ReorderDeadline = null;
    }

    private ref Segment At(int i) => ref _ring[(_head + i) & (_ring.Length - 1)];

    /// <summary>
    /// [<paramref name="start"/>, <paramref name="end"/>) left at <paramref name="now"/>: new data is
    /// appended; a retransmission restamps the segments it covers (split at its edges) and clears their loss mark.
    /// </summary>
    public void OnSent(SeqNumber start, SeqNumber end, TimeSpan now)
    {
        if (end <= start)
            return;
        if (_count == 0)
        {
            // Nothing in flight: a new delivery interval starts now (draft-cheng 3.2).
            _firstSentTime = now;
            _deliveredTime = now;
        }
        if (_count == 0 || start >= At(_count - 1).End)
        {
            Append(Stamp(new Segment { Start = start, End = end, Xmit = now, Order = ++_sends }));
            return;
        }
        Split(start);
        Split(end);
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            if (s.End <= start)
                continue;
            if (s.Start >= end)
                break;
            if ((s.Marks & Marks.Lost) != 0)
                LostBytes -= s.Length;
            s.Marks = (s.Marks & ~Marks.Lost) | Marks.Retransmitted;
            s.Xmit = now;
            s.Order = ++_sends;
            s = Stamp(s);
        }
        if (At(_count - 1).End < end)
            Append(Stamp(new Segment { Start = At(_count - 1).End, End = end, Xmit = now, Order = ++_sends }));
    }

    private Segment Stamp(Segment s)
    {
        s.Delivered = _delivered;
        s.DeliveredTime = _deliveredTime;
        s.FirstSentTime = _firstSentTime;
        s.AppLimited = _appLimitedUntil != 0;
        return s;
    }

    /// <summary>
    /// Processes an ACK: drops what <paramref name="una"/> covers, marks what <paramref name="sacks"/>
    /// covers (D-SACK blocks must be left out), and updates the RACK reference from the most recently
    /// sent segment delivered (RFC 8985 6.2 steps 1-3). <paramref name="echoSentBefore"/> is, when
    /// the ACK echoes a timestamp, a time before which the echoed segment was certainly sent: a
    /// retransmitted segment later than that was delivered by its original, so it gives no RTT.
    /// Returns the bytes newly delivered (RFC 6937 DeliveredData).
    /// </summary>
    public int OnAck(SeqNumber una, ReadOnlySpan<SackBlock> sacks, TimeSpan? echoSentBefore, TimeSpan now)
    {
        int delivered = 0;
        _ackNow = now;
        _ackEchoSentBefore = echoSentBefore;
        _fackBefore = _fack;
        _referenceMoved = false;
        long priorDelivered = _delivered;
        _rs = default;
        _rsOrder = 0;

        // Cumulatively acknowledged segments.
        while (_count > 0)
        {
            ref var s = ref At(0);
            if (s.Start >= una)
                break;
            if (s.End > una)
            {
                // Partly acknowledged: trim; not a whole delivered segment, so no RTT from it.
                int cut = una - s.Start;
                if ((s.Marks & Marks.Sacked) != 0)
                    SackedBytes -= cut;
                else
                {
                    if ((s.Marks & Marks.Lost) != 0)
                        LostBytes -= cut;
                    delivered += cut;
                    RateDelivered(in s, cut);
                }
                s.Start = una;
                break;
            }
            int len = s.Length;
            if ((s.Marks & Marks.Sacked) != 0)
            {
                SackedBytes -= len;
                SackedSegments--;
            }
            else
            {
                if ((s.Marks & Marks.Lost) != 0)
                    LostBytes -= len;
                delivered += len;
                RateDelivered(in s, len);
                Consider(in s);
            }
            _head = (_head + 1) & (_ring.Length - 1);
            _count--;
        }

        foreach (var b in sacks)
        {
            if (b.Right <= una || b.Right <= b.Left || _count == 0)
                continue;
            var left = SeqNumber.Max(b.Left, una);
            var right = SeqNumber.Min(b.Right, At(_count - 1).End);
            if (right <= left)
                continue;
            Split(left);
            Split(right);
            for (int i = 0; i < _count; i++)
            {
                ref var s = ref At(i);
                if (s.End <= left)
                    continue;
                if (s.Start >= right)
                    break;
                if ((s.Marks & Marks.Sacked) != 0)
                    continue;
                int len = s.Length;
                if ((s.Marks & Marks.Lost) != 0)
                    LostBytes -= len;
                s.Marks = (s.Marks & ~Marks.Lost) | Marks.Sacked;
                SackedBytes += len;
                SackedSegments++;
                delivered += len;
                RateDelivered(in s, len);
                Consider(in s);
            }
        }

        if (_referenceMoved)
            SmoothedRtt = SmoothedRtt is { } srtt ? (srtt * 7 + _rtt) / 8 : _rtt; // one sample per ACK
        GenerateRateSample(delivered);
        return delivered;
    }

    /// <summary>draft-cheng 3.3 UpdateRateSample for <paramref name="len"/> bytes of segment <paramref name="s"/> delivered now.</summary>
    private void RateDelivered(in Segment s, int len)
    {
        _delivered += len;
        _deliveredTime = _ackNow;
        // The most recently sent segment delivered by this ACK gives the sample (its send snapshot).
        if (_rsOrder == 0 || s.Order > _rsOrder)
        {
            _rsOrder = s.Order;
            _rs.HasSample = true;
            _rs.PriorDelivered = s.Delivered;
            _rs.PriorTime = s.DeliveredTime;
            _rs.IsAppLimited = s.AppLimited;
            _rs.SendElapsed = s.Xmit - s.FirstSentTime;
            _rs.Rtt = (s.Marks & Marks.Retransmitted) == 0 ? _ackNow - s.Xmit : null;
            _firstSentTime = s.Xmit;
        }
    }

    /// <summary>draft-cheng 3.3 GenerateRateSample, at the end of an ACK.</summary>
    private void GenerateRateSample(int ackedSacked)
    {
        _rs.AckedSacked = ackedSacked;
        _rs.TotalDelivered = _delivered;
        _rs.DeliveredTime = _deliveredTime;
        // The application-limited bubble ends once what was in flight at its start is delivered.
        if (_appLimitedUntil != 0 && _delivered > _appLimitedUntil)
            _appLimitedUntil = 0;
        if (!_rs.HasSample)
            return;
        _rs.Delivered = _delivered - _rs.PriorDelivered;
        var ackElapsed = _deliveredTime - _rs.PriorTime;
        // The slower of the send and ACK rates: ACK compression cannot inflate the estimate.
        var interval = _rs.SendElapsed > ackElapsed ? _rs.SendElapsed : ackElapsed;
        _rs.Interval = interval;
        // An interval below the minimum RTT is an artefact (a stretched ACK), not a rate (Linux tcp_rate_gen).
        _rs.Valid = interval > TimeSpan.Zero && (MinRtt is not { } m || interval >= m);
    }

    private bool _referenceMoved;

    // The ACK being processed (OnAck hands these to Consider without a closure).
    private TimeSpan _ackNow;
    private TimeSpan? _ackEchoSentBefore;
    private SeqNumber _fackBefore;

    /// <summary>RFC 8985 6.2 steps 1-3 for one newly delivered segment.</summary>
    private void Consider(in Segment s)
    {
        bool retransmitted = (s.Marks & Marks.Retransmitted) != 0;
        // Step 3: a segment sent once and delivered below the highest delivered sequence arrived out of order.
        if (!retransmitted && s.End < _fackBefore)
            _reorderingSeen = true;
        if (s.End > _fack)
            _fack = s.End;
        var rtt = _ackNow - s.Xmit;
        if (!retransmitted && (MinRtt is not { } min || rtt < min))
            MinRtt = rtt; // step 1
        // Step 2: a retransmitted segment whose ACK may have been for the original gives no RTT:
        // the ACK echoes a timestamp older than the retransmission or, without timestamps, the RTT
        // is below the minimum seen. With timestamps only their verdict counts: on a
        // sub-millisecond path RTTs jitter around the minimum, and the RTT test would reject most
        // genuine deliveries of retransmissions, leaving lost retransmissions unnoticed until the RTO.
        if (retransmitted && (_ackEchoSentBefore is { } e ? e <= s.Xmit : MinRtt is { } m && rtt < m))
            return;
        if (!_hasReference || s.Order > _order)
        {
            _rtt = rtt; // RACK.rtt follows the most recently sent segment delivered
            _xmitTs = s.Xmit;
            _order = s.Order;
            _hasReference = true;
            _referenceMoved = true;
        }
    }

    /// <summary>A D-SACK arrived: the peer got something twice, so a retransmission was spurious; widen the reordering window.</summary>
    public void OnDsack()
    {
        if (_reoWndMult < 64)
            _reoWndMult++;
        _reoWndPersist = ReoWndPersist;
    }

    /// <summary>A loss recovery ended: the widened reordering window lasts only <see cref="ReoWndPersist"/> recoveries.</summary>
    public void OnRecoveryEnd()
    {
        if (_reoWndPersist > 0 && --_reoWndPersist == 0)
            _reoWndMult = 1;
    }

    /// <summary>
    /// RFC 8985 6.2 step 4: zero while no reordering was seen and recovery is under way (or DupThresh
    /// segments are SACKed), so the first losses are found as fast as with duplicate ACKs; otherwise
    /// a quarter of the minimum RTT per D-SACK-driven step, never above SRTT.
    /// </summary>
    private TimeSpan ComputeReorderWindow(bool inRecovery, TimeSpan? srtt)
    {
        if (!_reorderingSeen && (inRecovery || SackedSegments >= DupThresh))
            return TimeSpan.Zero;
        var min = MinRtt ?? TimeSpan.Zero;
        var w = TimeSpan.FromTicks(min.Ticks / 4 * _reoWndMult);
        return srtt is { } s && w > s ? s : w;
    }

    /// <summary>
    /// RFC 8985 6.2 step 5: marks lost every outstanding segment sent before the RACK reference and
    /// overdue by RACK.rtt + reo_wnd; arms <see cref="ReorderDeadline"/> for the candidates not yet overdue.
    /// Returns the bytes newly marked lost.
    /// </summary>
    public int DetectLoss(TimeSpan now, bool inRecovery, TimeSpan? srtt)
    {
        ReorderDeadline = null;
        if (!_hasReference)
            return 0;
        var reoWnd = ReorderWindow = ComputeReorderWindow(inRecovery, srtt);
        int lost = 0;
        TimeSpan? wait = null;
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            if ((s.Marks & (Marks.Sacked | Marks.Lost)) != 0)
                continue;
            bool retransmitted = (s.Marks & Marks.Retransmitted) != 0;
            if (s.Order > _order)
            {
                // Segments sent once go out in sequence order: once one was sent after the reference,
                // so was every later one (retransmissions included).
                if (!retransmitted)
                    break;
                continue;
            }
            var remaining = s.Xmit + _rtt + reoWnd - now;
            if (remaining <= TimeSpan.Zero)
            {
                s.Marks |= Marks.Lost;
                LostBytes += s.Length;
                lost += s.Length;
            }
            else if (wait is not { } w || remaining > w)
                wait = remaining; // RFC 8985: the timer covers the latest-expiring candidate
        }
        if (wait is { } t)
            ReorderDeadline = now + t;
        return lost;
    }

    /// <summary>The retransmission timer expired: every segment not SACKed is deemed lost (RFC 8985 6.3).</summary>
    public void MarkAllLost()
    {
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            if ((s.Marks & (Marks.Sacked | Marks.Lost)) != 0)
                continue;
            s.Marks |= Marks.Lost;
            LostBytes += s.Length;
        }
        ReorderDeadline = null;
    }

    /// <summary>The lowest segment deemed lost and not yet retransmitted.</summary>
    public bool TryGetFirstLost(out SeqNumber start, out SeqNumber end)
    {
        if (LostBytes > 0)
            for (int i = 0; i < _count; i++)
            {
                ref var s = ref At(i);
                if ((s.Marks & Marks.Lost) != 0)
                {
                    start = s.Start;
                    end = s.End;
                    return true;
                }
            }
        start = end = default;
        return false;
    }

    /// <summary>
    /// The segment a tail loss probe resends: the highest one not SACKed (its delivery moves the
    /// RACK reference past every older retransmission), else the highest one.
    /// </summary>
    public bool TryGetProbeSegment(out SeqNumber start, out SeqNumber end)
    {
        start = end = default;
        if (_count == 0)
            return false;
        for (int i = _count - 1; i >= 0; i--)
        {
            ref var s = ref At(i);
            if ((s.Marks & Marks.Sacked) == 0)
            {
                start = s.Start;
                end = s.End;
                return true;
            }
        }
        ref var last = ref At(_count - 1);
        start = last.Start;
        end = last.End;
        return true;
    }


    private void Append(in Segment s)
    {
        if (_count == _ring.Length)
            Grow();
        At(_count) = s;
        _count++;
    }

    /// <summary>Splits the segment containing <paramref name="seq"/> strictly inside it, so a boundary falls at <paramref name="seq"/>.</summary>
    private void Split(SeqNumber seq)
    {
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            if (s.End <= seq)
                continue;
            if (s.Start >= seq)
                return;
            // s.Start < seq < s.End: make room at i + 1 and cut.
            if (_count == _ring.Length)
            {
                Grow();
                s = ref At(i);
            }
            for (int j = _count; j > i + 1; j--)
                At(j) = At(j - 1);
            _count++;
            var tail = s;
            tail.Start = seq;
            s.End = seq;
            At(i + 1) = tail;
            if ((tail.Marks & Marks.Sacked) != 0)
                SackedSegments++;
            return;
        }
    }

    private void Grow()
    {
        var bigger = new Segment[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
            bigger[i] = At(i);
        _ring = bigger;
        _head = 0;
    }
}
