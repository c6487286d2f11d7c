namespace TcpExposure.Responder.Stateless;

/// <summary>
/// Commands a prober puts in the first payload byte (the payload must be longer than 3 bytes).
/// </summary>
public static class ResponderCommands
{
    /// <summary>
    /// Echo. The answer's payload is, in order: the IP and TCP headers (with options) of the
    /// segment as received; the IP and TCP headers (with options) of this answer exactly as sent,
    /// except that the copy's TCP checksum field is zero (it cannot hold its own checksum); the
    /// received payload (command byte included); then <see cref="ResponderConfig.EchoPad"/> (0xAB)
    /// bytes up to a multiple of <see cref="ResponderConfig.EchoAlign"/>. An echo that would make the
    /// answer longer than <see cref="ResponderConfig.MaxPacketLength"/> is cut at its end. The
    /// answer acknowledges the segment (ack = seq + payload length).
    /// </summary>
    public const byte Echo = 0xa1;
    /// <summary>As <see cref="Echo"/>, but the timestamp echo carries TSecr = received TSval - 1.</summary>
    public const byte EchoOldTimestamp = 0xa2;
    /// <summary>
    /// As <see cref="Echo"/>, carried as the body of an HTTP response so it crosses HTTP-aware
    /// middleboxes: <c>STATUS-LINE CRLF "Content-Type: application/octet-stream" CRLF
    /// "Content-Length: " N CRLF CRLF</c> followed by the N-byte echo.
    /// </summary>
    public const byte EchoHttp = 0xa3;
    /// <summary>Do not acknowledge this segment: ack = received seq (a duplicate ACK); the answer has no payload.</summary>
    public const byte DuplicateAck = 0xb2;
    /// <summary>On a SYN with data: the SYN-ACK acknowledges the data too (ack = seq + 1 + payload length).</summary>
    public const byte AckSynData = 0xc1;
    /// <summary>On a SYN with data: as <see cref="AckSynData"/>, and the SYN-ACK carries the <see cref="Echo"/> payload.</summary>
    public const byte AckSynDataEcho = 0xc2;

    /// <summary>The smallest payload that carries a command: longer than 3 bytes.</summary>
    public const int MinPayload = 4;

    /// <summary>Whether <paramref name="b"/> is one of the commands.</summary>
    public static bool IsKnown(byte b) => b is Echo or EchoOldTimestamp or EchoHttp or DuplicateAck or AckSynData or AckSynDataEcho;
}
