using System.Buffers.Binary;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Responder.Probe;

/// <summary>
/// The payload of a responder 0xa1 answer, taken apart: the headers of our segment as the
/// responder received them, the responder's own headers as it sent them, and the data it got.
/// </summary>
/// <param name="Received">Our segment's IP + TCP headers as they arrived at the responder (parsed; payload empty).</param>
/// <param name="ReceivedPayloadLength">The payload length the arriving segment declared (IP length minus headers).</param>
/// <param name="Sent">The answer's headers as the responder wrote them (parsed; its checksum field is zero).</param>
/// <param name="Data">The received data as echoed (cut if the echo was cut).</param>
public sealed record EchoView(TcpSegment Received, int ReceivedPayloadLength, TcpSegment Sent, ReadOnlyMemory<byte> Data)
{
    /// <summary>Reads an echo payload; false when it is not one (or is cut inside the headers).</summary>
    public static bool TryParse(ReadOnlyMemory<byte> payload, out EchoView? echo)
    {
        echo = null;
        var p = payload.Span;
        // An 0xa3 echo comes after an HTTP header.
        if (p.StartsWith("HTTP/"u8))
        {
            int end = p.IndexOf("\r\n\r\n"u8);
            if (end < 0) return false;
            payload = payload[(end + 4)..];
            p = payload.Span;
        }
        if (!TryHeaders(p, out int rLen, out int rDeclared) || !TryHeaders(p[rLen..], out int sLen, out _))
            return false;
        var received = SegmentParser.Parse(p[..rLen]).Segment;
        var sent = SegmentParser.Parse(p.Slice(rLen, sLen)).Segment;
        if (received is null || sent is null)
            return false;
        echo = new EchoView(received, rDeclared, sent, payload[(rLen + sLen)..]);
        return true;
    }

    private static bool TryHeaders(ReadOnlySpan<byte> p, out int length, out int declaredPayload)
    {
        length = 0;
        declaredPayload = 0;
        if (p.Length < 1) return false;
        int ip, total;
        if (p[0] >> 4 == 4)
        {
            ip = (p[0] & 0xF) * 4;
            if (ip < 20 || p.Length < ip + 20) return false;
            total = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        }
        else if (p[0] >> 4 == 6)
        {
            ip = 40;
            if (p.Length < ip + 20) return false;
            total = 40 + BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        }
        else return false;
        int tcp = (p[ip + 12] >> 4) * 4;
        if (tcp < 20 || p.Length < ip + tcp) return false;
        length = ip + tcp;
        declaredPayload = Math.Max(0, total - length);
        return true;
    }
}
