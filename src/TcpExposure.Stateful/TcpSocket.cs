using System.Net;

namespace TcpExposure.Stateful;

/// <summary>Per-connection counters (a snapshot from <see cref="TcpSocket.Counters"/>).</summary>
/// <param name="Retransmissions">Segments retransmitted (timeouts, fast retransmits, SACK recovery; SYNs included).</param>
/// <param name="Timeouts">Retransmission timer expiries (SYN and persist timers excluded).</param>
/// <param name="FastRetransmits">Loss recovery episodes entered on duplicate ACKs, SACK or RACK.</param>
/// <param name="ZeroWindowProbes">Zero-window probes sent.</param>
/// <param name="BytesSent">Application bytes the peer acknowledged.</param>
/// <param name="BytesReceived">Application bytes received in order.</param>
/// <param name="TailLossProbes">Tail loss probes sent (RFC 8985 section 7).</param>
/// <param name="SpuriousRecoveriesUndone">Window reductions undone after D-SACKs proved them spurious (RFC 2883).</param>
/// <param name="MaxFlight">The largest flight so far, bytes.</param>
/// <param name="CongestionWindow">The congestion window now, bytes.</param>
/// <param name="CongestionControl">The congestion control algorithm's state in one line (for BBR, its model).</param>
public readonly record struct TcpSocketCounters(long Retransmissions, long Timeouts, long FastRetransmits, long ZeroWindowProbes, long BytesSent, long BytesReceived,
    long TailLossProbes = 0, long SpuriousRecoveriesUndone = 0, long MaxFlight = 0, int CongestionWindow = 0, string? CongestionControl = null);

/// <summary>
/// A connected socket of a <see cref="TcpStack"/>. Reads and writes wait on the connection's
/// events (no polling): each event completes the pending wait and the caller re-checks.
/// </summary>
public sealed class TcpSocket : IAsyncDisposable, IDisposable
{
    private readonly TcpStack _stack;
    private TaskCompletionSource _changed = NewSignal();
    private bool _observed; // someone holds _changed.Task; only then does a signal need a new one

    internal TcpSocket(TcpStack stack, TcpConnection connection, int id, IPEndPoint local, IPEndPoint remote)
    {
        _stack = stack;
        Connection = connection;
        Id = id;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
    }

    internal TcpConnection Connection { get; }
    internal bool Accepted;

    /// <summary>The stack-wide number of this socket (as in <see cref="TcpStack.Sockets"/>).</summary>
    public int Id { get; }
    /// <summary>The stack's address and this connection's local port.</summary>
    public IPEndPoint LocalEndPoint { get; }
    /// <summary>The peer's address and port.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The connection's RFC 9293 state now.</summary>
    public TcpState State
    {
        get { lock (_stack.Gate) return Connection.State; }
    }

    /// <summary>Counters of this connection so far.</summary>
    public TcpSocketCounters Counters
    {
        get
        {
            lock (_stack.Gate)
            {
                var c = Connection;
                return new TcpSocketCounters(c.Retransmissions, c.Timeouts, c.FastRetransmits, c.ZeroWindowProbes, c.BytesAcknowledged, c.BytesReceived,
                    c.TailLossProbes, c.SpuriousRecoveriesUndone, c.MaxFlightSize, c.CongestionWindow, c.CongestionControl.ToString());
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes waiters. Caller holds the stack's lock.</summary>
    internal void Signal()
    {
        if (!_observed)
            return;
        _observed = false;
        var old = _changed;
        _changed = NewSignal();
        old.TrySetResult();
    }

    /// <summary>The task the next signal completes. Caller holds the stack's lock.</summary>
    /// <exception cref="ObjectDisposedException">The stack was disposed: nothing will ever signal again.</exception>
    private Task Observe()
    {
        if (_stack.IsDisposed)
            throw new ObjectDisposedException(nameof(TcpStack), $"The stack carrying the connection with {RemoteEndPoint} was disposed.");
        _observed = true;
        return _changed.Task;
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the connection.</summary>
    internal async Task WaitAsync(Func<TcpConnection, bool> condition, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_stack.Gate)
            {
                if (condition(Connection))
                    return;
                wait = Observe();
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>, waiting until data arrives; returns 0
    /// once the peer closed its side and everything was read.
    /// </summary>
    /// <exception cref="ConnectionResetException">The peer reset the connection.</exception>
    /// <exception cref="ConnectionTimedOutException">The user timeout expired.</exception>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
            return 0;
        while (true)
        {
            Task wait;
            lock (_stack.Gate)
            {
                var c = Connection;
                int n = c.Receive(buffer.Span, _stack.Now);
                if (n > 0)
                {
                    _stack.ArmTimer();
                    return n;
                }
                if (c.ReceiveFinished)
                    return 0;
                if (c.State == TcpState.Closed)
                {
                    if (c.Error != TcpError.None)
                        throw TcpSocketException.For(c.Error, RemoteEndPoint, c.Config);
                    return 0;
                }
                wait = Observe();
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Queues all of <paramref name="data"/>, waiting for room in the send buffer as needed.</summary>
    /// <exception cref="ConnectionResetException">The peer reset the connection.</exception>
    /// <exception cref="ConnectionTimedOutException">The user timeout expired.</exception>
    /// <exception cref="InvalidOperationException">The sending side was shut down.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_stack.Gate)
            {
                var c = Connection;
                if (c.Error != TcpError.None)
                    throw TcpSocketException.For(c.Error, RemoteEndPoint, c.Config);
                if (!c.CanSend)
                    throw new InvalidOperationException($"Cannot write to the connection with {RemoteEndPoint}: its sending side is closed ({c.State}).");
                if (!data.IsEmpty && c.SendSpace > 0)
                {
                    int n = c.Send(data.Span, _stack.Now);
                    data = data[n..];
                    _stack.ArmTimer();
                }
                if (data.IsEmpty)
                    return;
                wait = Observe();
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every byte written so far was acknowledged by the peer.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
        => WaitAsync(c => c.SendQueued == 0 || c.State == TcpState.Closed, cancellationToken);

    /// <summary>Shuts down the sending side (FIN after the queued data); reading goes on.</summary>
    public void Shutdown()
    {
        lock (_stack.Gate)
        {
            Connection.Shutdown(_stack.Now);
            AfterUserCall();
        }
    }

    /// <summary>
    /// Closes the socket: FIN after the queued data, like close(2). The connection finishes its
    /// close (FIN-WAIT, TIME-WAIT) in the stack; FIN-WAIT-2 lasts at most <see cref="TcpConfig.FinWait2Timeout"/>.
    /// </summary>
    public void Close()
    {
        lock (_stack.Gate)
        {
            Connection.Close(_stack.Now);
            AfterUserCall();
        }
    }

    /// <summary>Resets the connection (RST) and forgets it.</summary>
    public void Abort()
    {
        lock (_stack.Gate)
        {
            Connection.Abort(_stack.Now);
            AfterUserCall();
        }
    }

    /// <summary>Waits until the connection is fully closed (CLOSED or TIME-WAIT).</summary>
    public Task WaitClosedAsync(CancellationToken cancellationToken = default)
        => WaitAsync(c => c.State is TcpState.Closed or TcpState.TimeWait, cancellationToken);

    private void AfterUserCall()
    {
        if (_stack.Find(this) is { } e)
            _stack.AfterEvent(e);
        else
            Signal();
        _stack.ArmTimer();
    }

    /// <summary>Blocking <see cref="ReadAsync"/>.</summary>
    public int Read(Memory<byte> buffer) => ReadAsync(buffer).AsTask().GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="WriteAsync"/>.</summary>
    public void Write(ReadOnlyMemory<byte> data) => WriteAsync(data).AsTask().GetAwaiter().GetResult();

    /// <summary>Same as <see cref="Close"/>: a graceful close (FIN), not a reset.</summary>
    public void Dispose() => Close();

    /// <summary>Same as <see cref="Close"/>; completes at once (the close goes on in the stack).</summary>
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    /// <summary>"id: local -> remote", for logs.</summary>
    public override string ToString() => $"{Id}: {LocalEndPoint} -> {RemoteEndPoint}";
}
