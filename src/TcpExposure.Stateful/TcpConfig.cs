namespace TcpExposure.Stateful;

/// <summary>Per-connection settings. Defaults follow Linux where the RFCs leave a choice.</summary>
public sealed record TcpConfig
{
    /// <summary>The MSS we announce and the largest payload we send (before options).</summary>
    public ushort Mss { get; init; } = 1460;
    /// <summary>Receive buffer (and so the largest window we offer), bytes.</summary>
    public int ReceiveBufferSize { get; init; } = 256 * 1024;
    /// <summary>Send buffer, bytes.</summary>
    public int SendBufferSize { get; init; } = 256 * 1024;
    /// <summary>Offer window scaling (RFC 7323); the shift is the smallest that covers the receive buffer.</summary>
    public bool WindowScaling { get; init; } = true;
    /// <summary>Offer timestamps (RFC 7323: RTTM and PAWS).</summary>
    public bool Timestamps { get; init; } = true;
    /// <summary>Offer SACK (RFC 2018) and use it for loss recovery (RFC 6675).</summary>
    public bool Sack { get; init; } = true;
    /// <summary>RTO before any RTT sample (RFC 6298: 1 s).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Lower bound of the RTO (RFC 6298 says 1 s; Linux uses 200 ms).</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Upper bound of the RTO (at least 60 s per RFC 6298).</summary>
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long an ACK for in-order data may wait; zero ACKs every segment at once.</summary>
    public TimeSpan DelayedAck { get; init; } = TimeSpan.FromMilliseconds(40);
    /// <summary>Abort when sent data (or a SYN) stays unacknowledged this long (RFC 9293 USER TIMEOUT).</summary>
    public TimeSpan UserTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>TIME-WAIT duration, 2*MSL.</summary>
    public TimeSpan TimeWait { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long a connection the application closed (<see cref="TcpConnection.Close"/>) may wait in
    /// FIN-WAIT-2 for the peer's FIN once ours is acknowledged, before it is dropped (CLOSED) without
    /// further ado; a peer that never closes would otherwise hold it forever. Linux's
    /// tcp_fin_timeout, 60 s, which Linux applies to orphaned sockets only: after
    /// <see cref="TcpConnection.Shutdown"/> (the application still reads) FIN-WAIT-2 has no limit.
    /// </summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Initial congestion window in segments (RFC 6928: 10).</summary>
    public int InitialWindowSegments { get; init; } = 10;
    /// <summary>The congestion control algorithm (NewReno by default; serve and repl default to BBR).</summary>
    public CongestionAlgorithm CongestionControl { get; init; } = CongestionAlgorithm.NewReno;
    /// <summary>
    /// With BBR: pace transmissions at its pacing rate (pacing_gain * BtlBw), in bursts of one send
    /// quantum (a millisecond of data at that rate, 2 segments to 64 KB), the connection's deadline
    /// waking it for the next burst. Off, the window alone bounds the flight (as Linux BBR without
    /// the fq qdisc's or TCP's internal pacing); on sub-millisecond paths the whole window is less
    /// than a quantum and pacing changes nothing.
    /// </summary>
    public bool Pacing { get; init; }
    /// <summary>
    /// Tail loss probes (RFC 8985 section 7): when ACKs stop, probe after about two RTTs instead of
    /// waiting for the RTO, so losses at the end of a flight are repaired by fast recovery.
    /// </summary>
    public bool TailLossProbe { get; init; } = true;
    /// <summary>
    /// Lower bound of the probe timeout (RFC 8985 7.2 PTO = 2 SRTT, with RACK the SRTT timed from
    /// transmissions). On a sub-millisecond path it is what an ACK silence costs: a Linux receiver
    /// holds the ACK of a lone last segment for its delayed-ACK timer, and each probe that breaks
    /// such a silence waits this long. Linux uses two jiffies (2 ms), a tick-based timer's
    /// floor; at 2 ms the 5% loss benchmark spent a third of its time waiting for probes, and a
    /// spurious probe costs only one duplicate segment.
    /// </summary>
    public TimeSpan MinProbeTimeout { get; init; } = TimeSpan.FromMicroseconds(250);
    /// <summary>
    /// RACK-TLP loss detection (RFC 8985) with Proportional Rate Reduction (RFC 6937) and D-SACK
    /// undo (RFC 2883) when the peer does SACK: losses are found from transmission times, so lost
    /// retransmissions and losses in short flights are repaired without waiting for the RTO. Off,
    /// SACK recovery is RFC 6675's (DupThresh duplicate ACKs or SACKed segments).
    /// </summary>
    public bool Rack { get; init; } = true;
    /// <summary>
    /// Idle time before the first keepalive probe (RFC 9293 3.8.4); null (the default) sends none.
    /// A probe goes only while nothing is outstanding; any segment from the peer restarts the count.
    /// </summary>
    public TimeSpan? KeepAliveIdle { get; init; }
    /// <summary>Time between unanswered keepalive probes (Linux: 75 s).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);
    /// <summary>Unanswered probes after which the connection is dropped with <see cref="TcpError.KeepAliveTimedOut"/> (Linux: 9).</summary>
    public int KeepAliveCount { get; init; } = 9;
    /// <summary>Challenge ACKs sent at most per second (RFC 5961 section 7).</summary>
    public int ChallengeAckLimit { get; init; } = 1000;
    /// <summary>The ISN source; RFC 6528 with a random key unless a test sets a fixed one.</summary>
    public IIsnGenerator IsnGenerator { get; init; } = new Rfc6528IsnGenerator();
    /// <summary>Added to our timestamp clock (RFC 7323 recommends a per-connection random offset).</summary>
    public uint TimestampOffset { get; init; }

    /// <summary>The window scale shift we offer for <see cref="ReceiveBufferSize"/>.</summary>
    public byte ReceiveWindowShift
    {
        get
        {
            byte shift = 0;
            while (shift < 14 && (ReceiveBufferSize >> shift) > 65535)
                shift++;
            return shift;
        }
    }
}
