namespace TcpExposure.Stateful;

/// <summary>A socket operation failed because the connection ended abnormally.</summary>
public class TcpSocketException : IOException
{
    /// <summary>An exception for a connection that ended with <paramref name="error"/>.</summary>
    public TcpSocketException(TcpError error, string message) : base(message) => Error = error;
    /// <summary>What ended the connection.</summary>
    public TcpError Error { get; }

    /// <summary>The exception that reports <paramref name="error"/> for a connection to <paramref name="remote"/>.</summary>
    public static Exception For(TcpError error, System.Net.IPEndPoint remote, TcpConfig config) => error switch
    {
        TcpError.ConnectionReset => new ConnectionResetException($"Connection to {remote} was reset by the peer."),
        TcpError.ConnectionRefused => new ConnectionRefusedException($"Connection to {remote} was refused (the peer answered the SYN with RST)."),
        TcpError.TimedOut => new ConnectionTimedOutException(
            $"Connection to {remote} timed out: nothing was acknowledged for {config.UserTimeout.TotalSeconds:0.###} s (user timeout)."),
        TcpError.KeepAliveTimedOut => new ConnectionTimedOutException(TcpError.KeepAliveTimedOut,
            $"Connection to {remote} timed out: the peer answered none of {config.KeepAliveCount} keepalive probes sent "
            + $"{config.KeepAliveInterval.TotalSeconds:0.###} s apart after {config.KeepAliveIdle?.TotalSeconds:0.###} s idle."),
        TcpError.Aborted => new TcpSocketException(error, $"Connection to {remote} was aborted locally."),
        _ => new TcpSocketException(error, $"Connection to {remote} is closed."),
    };
}

/// <summary>The peer reset the connection (an acceptable RST arrived).</summary>
public sealed class ConnectionResetException(string message) : TcpSocketException(TcpError.ConnectionReset, message);

/// <summary>The peer refused the connection (RST in answer to our SYN).</summary>
public sealed class ConnectionRefusedException(string message) : TcpSocketException(TcpError.ConnectionRefused, message);

/// <summary>The peer went silent: the user timeout expired, or keepalive probes went unanswered.</summary>
public sealed class ConnectionTimedOutException : TimeoutException
{
    /// <summary>A user timeout (<see cref="TcpError.TimedOut"/>).</summary>
    public ConnectionTimedOutException(string message) : this(TcpError.TimedOut, message) { }

    /// <summary>A timeout of the given kind (<see cref="TcpError.TimedOut"/> or <see cref="TcpError.KeepAliveTimedOut"/>).</summary>
    public ConnectionTimedOutException(TcpError error, string message) : base(message) => Error = error;

    /// <summary>Which timer ended the connection.</summary>
    public TcpError Error { get; }
}
