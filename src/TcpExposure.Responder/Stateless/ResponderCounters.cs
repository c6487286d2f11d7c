using System.Text;

namespace TcpExposure.Responder.Stateless;

/// <summary>What a <see cref="ResponderHost"/> has seen and sent. Read from any thread; written only by the loop.</summary>
public sealed class ResponderCounters
{
    private readonly long[] _verdicts = new long[Enum.GetValues<ResponderVerdict>().Length];
    private long _received, _sent, _sendFailures, _truncated, _ownEchoes, _kernelDrops;

    /// <summary>Packets the transport delivered.</summary>
    public long Received => Volatile.Read(ref _received);
    /// <summary>Answer packets handed to the transport.</summary>
    public long Sent => Volatile.Read(ref _sent);
    /// <summary>Answers the transport refused.</summary>
    public long SendFailures => Volatile.Read(ref _sendFailures);
    /// <summary>Packets longer than the receive buffer (cut, then judged like any other).</summary>
    public long Truncated => Volatile.Read(ref _truncated);
    /// <summary>Our own answers seen again by a capture (libpcap sees both directions on some links).</summary>
    public long OwnAnswersSeen => Volatile.Read(ref _ownEchoes);

    /// <summary>Packets the kernel dropped before we could read them (capture ring or socket buffer full), where the transport reports it.</summary>
    public long KernelDrops => Volatile.Read(ref _kernelDrops);

    /// <summary>How many packets got <paramref name="verdict"/>.</summary>
    public long this[ResponderVerdict verdict] => Volatile.Read(ref _verdicts[(int)verdict]);

    internal void CountReceived(bool truncated)
    {
        Interlocked.Increment(ref _received);
        if (truncated) Interlocked.Increment(ref _truncated);
    }

    internal void Count(ResponderVerdict verdict) => Interlocked.Increment(ref _verdicts[(int)verdict]);
    internal void CountSent() => Interlocked.Increment(ref _sent);
    internal void CountSendFailure() => Interlocked.Increment(ref _sendFailures);
    internal void CountOwnAnswer() => Interlocked.Increment(ref _ownEchoes);
    internal void CountKernelDrops(long n)
    {
        if (n > 0) Interlocked.Add(ref _kernelDrops, n);
    }

    /// <summary>One line: received, answered, sent, then every non-zero ignore reason.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"received {Received}, answered {this[ResponderVerdict.Answered]}, sent {Sent}");
        if (SendFailures > 0) sb.Append($", send failures {SendFailures}");
        foreach (var v in Enum.GetValues<ResponderVerdict>())
            if (v != ResponderVerdict.Answered && this[v] > 0)
                sb.Append($", {v} {this[v]}");
        if (OwnAnswersSeen > 0) sb.Append($", own answers seen {OwnAnswersSeen}");
        if (KernelDrops > 0) sb.Append($", dropped by the kernel (buffer full) {KernelDrops}");
        return sb.ToString();
    }
}
