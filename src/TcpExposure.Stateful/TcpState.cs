namespace TcpExposure.Stateful;

/// <summary>The connection states of RFC 9293 section 3.3.2.</summary>
public enum TcpState
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// <summary>Why a connection ended other than by a graceful close.</summary>
public enum TcpError
{
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
