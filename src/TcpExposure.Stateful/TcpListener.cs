using System.Net;
using System.Threading.Channels;

namespace TcpExposure.Stateful;

/// <summary>A listening port of a <see cref="TcpStack"/>: connections completed by the handshake wait here for <see cref="AcceptAsync"/>.</summary>
public sealed class TcpListener : IDisposable
{
    private readonly TcpStack _stack;
    private readonly Channel<TcpSocket> _ready = Channel.CreateUnbounded<TcpSocket>();

    internal TcpListener(TcpStack stack, int id, IPEndPoint local, int backlog)
    {
        _stack = stack;
        Id = id;
        LocalEndPoint = local;
        Backlog = Math.Max(1, backlog);
    }

    /// <summary>The stack-wide number of this listener (shared with sockets; as in <see cref="TcpStack.Sockets"/>).</summary>
    public int Id { get; }
    /// <summary>The stack's address and the port listened on.</summary>
    public IPEndPoint LocalEndPoint { get; }
    /// <summary>Connections half-open or established but not yet accepted, at most.</summary>
    public int Backlog { get; }
    /// <summary>Connections counted against the backlog now. Guarded by the stack's lock.</summary>
    internal int Pending;

    internal void Enqueue(TcpSocket socket) => _ready.Writer.TryWrite(socket);
    internal void Complete() => _ready.Writer.TryComplete();

    /// <summary>Waits for the next established connection.</summary>
    /// <exception cref="ObjectDisposedException">The listener was stopped.</exception>
    public async Task<TcpSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        TcpSocket socket;
        try
        {
            socket = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(TcpListener), $"The listener on {LocalEndPoint} is stopped.");
        }
        lock (_stack.Gate)
        {
            if (!socket.Accepted)
            {
                socket.Accepted = true;
                if (_stack.Find(socket) is not null)
                    Pending--;
            }
        }
        return socket;
    }

    /// <summary>Blocking <see cref="AcceptAsync"/>.</summary>
    public TcpSocket Accept() => AcceptAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Stops listening: new SYNs are no longer answered, connections not yet accepted are reset
    /// (RST), accepted connections live on.
    /// </summary>
    public void Dispose()
    {
        _stack.StopListening(this);
        Complete();
        while (_ready.Reader.TryRead(out _))
        {
        }
    }
}
