using System.Globalization;

namespace TcpExposure.Responder.Middlebox;

/// <summary>What a <see cref="MiddleboxForwarder"/> did so far.</summary>
public sealed class MiddleboxCounters
{
    internal long ReceivedToServer, ReceivedToClient, SentToServer, SentToClient, TtlExpired, SendFailures, Unparsable, PassedThrough, Faults;

    /// <summary>TCP segments taken from the left interface (toward the server).</summary>
    public long Received(MiddleboxDirection d) => Interlocked.Read(ref d == MiddleboxDirection.ToServer ? ref ReceivedToServer : ref ReceivedToClient);

    /// <summary>Segments sent out toward <paramref name="d"/>.</summary>
    public long Sent(MiddleboxDirection d) => Interlocked.Read(ref d == MiddleboxDirection.ToServer ? ref SentToServer : ref SentToClient);

    /// <summary>Segments not forwarded because their TTL or hop limit was 1 or 0.</summary>
    public long Expired => Interlocked.Read(ref TtlExpired);

    /// <summary>Segments no behaviour touched, forwarded as they came without being parsed (counted in received and sent too).</summary>
    public long PassedUnparsed => Interlocked.Read(ref PassedThrough);

    /// <summary>Sends the kernel refused.</summary>
    public long Failures => Interlocked.Read(ref SendFailures);

    /// <summary>Segments dropped because handling them threw (a bug in a behaviour; the box keeps forwarding).</summary>
    public long Errors => Interlocked.Read(ref Faults);

    /// <summary>One line for logs and the end of <c>tcpexposure middlebox</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"toward srv {Received(MiddleboxDirection.ToServer)} in / {Sent(MiddleboxDirection.ToServer)} out; " +
        $"toward cli {Received(MiddleboxDirection.ToClient)} in / {Sent(MiddleboxDirection.ToClient)} out; " +
        $"{PassedUnparsed} passed untouched, {Expired} TTL expired, {Failures} send failures, {Errors} dropped on errors");
}
