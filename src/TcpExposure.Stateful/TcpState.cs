namespace TcpExposure.Stateful;

/// <summary>The connection states of RFC 9293 section 3.3.2.</summary>
public enum TcpState
{
    /// <summary>CLOSED: no connection (before opening, or after it ended).</summary>
    Closed,
    /// <summary>LISTEN: waiting for a SYN (passive open).</summary>
    Listen,
    /// <summary>SYN-SENT: our SYN is out, waiting for the peer's SYN-ACK (active open).</summary>
    SynSent,
    /// <summary>SYN-RECEIVED: a SYN arrived and our SYN-ACK is out, waiting for its ACK.</summary>
    SynReceived,
    /// <summary>ESTABLISHED: the handshake completed; data flows both ways.</summary>
    Established,
    /// <summary>FIN-WAIT-1: we closed and sent FIN; it is not acknowledged yet.</summary>
    FinWait1,
    /// <summary>FIN-WAIT-2: our FIN was acknowledged; waiting for the peer's FIN.</summary>
    FinWait2,
    /// <summary>CLOSE-WAIT: the peer sent FIN; we may still send until we close.</summary>
    CloseWait,
    /// <summary>CLOSING: both sides sent FIN at once; waiting for the ACK of ours.</summary>
    Closing,
    /// <summary>LAST-ACK: the peer closed first, then we sent FIN; waiting for its ACK.</summary>
    LastAck,
    /// <summary>TIME-WAIT: both FINs acknowledged; lingering for <see cref="TcpConfig.TimeWait"/> (2 MSL) to absorb stray segments.</summary>
    TimeWait,
}

/// <summary>Why a connection ended other than by a graceful close.</summary>
public enum TcpError
{
    /// <summary>No error: the connection is open, or it closed gracefully.</summary>
    None,
    /// <summary>The peer sent an acceptable RST on an established connection.</summary>
    ConnectionReset,
    /// <summary>The peer answered our SYN with an RST.</summary>
    ConnectionRefused,
    /// <summary>Sent data (or the SYN) went unacknowledged for the user timeout.</summary>
    TimedOut,
    /// <summary>The local application aborted the connection.</summary>
    Aborted,
    /// <summary>The peer answered none of the keepalive probes (<see cref="TcpConfig.KeepAliveCount"/>).</summary>
    KeepAliveTimedOut,
}
