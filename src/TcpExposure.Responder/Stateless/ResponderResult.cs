namespace TcpExposure.Responder.Stateless;

/// <summary>What the responder did with one incoming packet.</summary>
public enum ResponderVerdict : byte
{
    /// <summary>One or two answers were written.</summary>
    Answered,
    /// <summary>Not an IPv4/IPv6 packet carrying TCP.</summary>
    NotTcp,
    /// <summary>The IP or TCP header is cut off, the data offset is impossible, or the IP length runs past the bytes or is shorter than the headers.</summary>
    Malformed,
    /// <summary>Addressed to another address.</summary>
    OtherAddress,
    /// <summary>Addressed to another port.</summary>
    OtherPort,
    /// <summary>The TCP or IPv4 header checksum is wrong (with <see cref="ResponderConfig.VerifyChecksum"/>).</summary>
    BadChecksum,
    /// <summary>An RST: never answered.</summary>
    Reset,
    /// <summary>Arrived with TTL / hop limit 1 (the legacy tools' way to keep their own probes out).</summary>
    TtlOne,
    /// <summary>An ACK without data, SYN or FIN: nothing to acknowledge.</summary>
    PureAck,
    /// <summary>A SYN-ACK: the responder never acts as a client.</summary>
    SynAck,
    /// <summary>The output buffer cannot hold the answer.</summary>
    OutputTooSmall,
}

/// <summary>
/// The answers <see cref="StatelessResponder.Respond(in TcpExposure.Craft.Wire.PacketView, Span{byte}, ResponderConfig)"/>
/// wrote: the first at offset 0 of the output, the second (the FIN+ACK after a FIN) right after it.
/// </summary>
/// <param name="Verdict">Why there is or is not an answer.</param>
/// <param name="FirstLength">Length of the first answer (0 when none).</param>
/// <param name="SecondLength">Length of the second answer (0 when none).</param>
/// <param name="Command">The command byte acted on (0 when none).</param>
public readonly record struct ResponderResult(ResponderVerdict Verdict, int FirstLength = 0, int SecondLength = 0, byte Command = 0)
{
    /// <summary>How many answers were written (0, 1 or 2).</summary>
    public int Count => (FirstLength > 0 ? 1 : 0) + (SecondLength > 0 ? 1 : 0);

    /// <summary>Total bytes written to the output.</summary>
    public int TotalLength => FirstLength + SecondLength;
}
