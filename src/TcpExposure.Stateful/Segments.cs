using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful;

/// <summary>Room for the four SACK blocks an option can carry, inline (no allocation).</summary>
[InlineArray(4)]
public struct SackBlockArray
{
    private SackBlock _element0;
}

/// <summary>
/// The TCP options a connection reads and writes (MSS, window scale, SACK-permitted, SACK,
/// timestamps) as a plain value; everything else on the wire is ignored.
/// </summary>
public struct SegmentOptions
{
    /// <summary>MSS value; 0 when absent.</summary>
    public ushort Mss;
    /// <summary>Window scale shift; -1 when absent.</summary>
    public int WindowScale;
    /// <summary>SACK-permitted (RFC 2018), meaningful on a SYN.</summary>
    public bool SackPermitted;
    /// <summary>True when the timestamps option (RFC 7323) is present; <see cref="TsVal"/> and <see cref="TsEcr"/> are valid only then.</summary>
    public bool HasTimestamps;
    /// <summary>TSval: the sender's timestamp clock (RFC 7323 section 3).</summary>
    public uint TsVal;
    /// <summary>TSecr: the most recent TSval the sender received from its peer (RFC 7323 section 3).</summary>
    public uint TsEcr;
    /// <summary>SACK blocks in use in <see cref="SackBlocks"/> (0 to 4).</summary>
    public int SackCount;
    /// <summary>The SACK blocks (RFC 2018); only the first <see cref="SackCount"/> are meaningful (see <see cref="Sacks"/>).</summary>
    public SackBlockArray SackBlocks;

    /// <summary>No options.</summary>
    public static SegmentOptions None => new() { WindowScale = -1 };

    /// <summary>The SACK blocks present.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<SackBlock> Sacks => ((ReadOnlySpan<SackBlock>)SackBlocks)[..SackCount];

    /// <summary>
    /// Reads the options a connection cares about from an option space with the codec's one-pass
    /// reader (<see cref="TcpOptionSummary"/>). Never throws; malformed options are ignored.
    /// </summary>
    public static SegmentOptions Parse(ReadOnlySpan<byte> optionSpace)
    {
        var sum = TcpOptionSummary.Read(optionSpace);
        var o = None;
        if (sum.HasMss)
            o.Mss = sum.Mss;
        if (sum.HasWindowScale)
            o.WindowScale = Math.Min((int)sum.WindowScale, 14); // RFC 7323 2.3: larger shifts are taken as 14
        o.SackPermitted = sum.SackPermitted;
        if (sum.HasTimestamps)
        {
            o.HasTimestamps = true;
            o.TsVal = sum.TsValue;
            o.TsEcr = sum.TsEcho;
        }
        for (int i = 0; i < sum.SackBlockCount && o.SackCount < 4; i++)
            if (sum.TryGetSackBlock(optionSpace, i, out var left, out var right))
                o.SackBlocks[o.SackCount++] = new SackBlock(left, right);
        return o;
    }

    /// <summary>Bytes <see cref="Write"/> produces (a multiple of 4).</summary>
    public readonly int EncodedLength
    {
        get
        {
            int n = 0;
            if (Mss != 0) n += 4;
            if (SackPermitted && HasTimestamps) n += 12;           // SACK-permitted, TS
            else if (SackPermitted) n += 4;                          // NOP NOP SACK-permitted
            else if (HasTimestamps) n += 12;                         // NOP NOP TS
            if (WindowScale >= 0) n += 4;                            // NOP WS
            if (SackCount > 0) n += 4 + 8 * SackCount;               // NOP NOP SACK
            return n;
        }
    }

    /// <summary>Writes the options in Linux's layout (4-byte aligned with NOPs); returns the bytes written.</summary>
    public readonly int Write(Span<byte> d)
    {
        int at = 0;
        if (Mss != 0)
        {
            d[0] = TcpOptionKind.MaximumSegmentSize; d[1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], Mss);
            at = 4;
        }
        if (SackPermitted && HasTimestamps)
        {
            d[at] = TcpOptionKind.SackPermitted; d[at + 1] = 2;
            at += 2;
            at = WriteTs(d, at);
        }
        else if (SackPermitted)
        {
            d[at] = 1; d[at + 1] = 1; d[at + 2] = TcpOptionKind.SackPermitted; d[at + 3] = 2;
            at += 4;
        }
        else if (HasTimestamps)
        {
            d[at] = 1; d[at + 1] = 1;
            at = WriteTs(d, at + 2);
        }
        if (WindowScale >= 0)
        {
            d[at] = 1; d[at + 1] = TcpOptionKind.WindowScale; d[at + 2] = 3; d[at + 3] = (byte)WindowScale;
            at += 4;
        }
        if (SackCount > 0)
        {
            d[at] = 1; d[at + 1] = 1; d[at + 2] = TcpOptionKind.Sack; d[at + 3] = (byte)(2 + 8 * SackCount);
            at += 4;
            for (int i = 0; i < SackCount; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(d[at..], SackBlocks[i].Left.Value);
                BinaryPrimitives.WriteUInt32BigEndian(d[(at + 4)..], SackBlocks[i].Right.Value);
                at += 8;
            }
        }
        return at;
    }

    private readonly int WriteTs(Span<byte> d, int at)
    {
        d[at] = TcpOptionKind.Timestamps; d[at + 1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(d[(at + 2)..], TsVal);
        BinaryPrimitives.WriteUInt32BigEndian(d[(at + 6)..], TsEcr);
        return at + 10;
    }
}

/// <summary>A received segment as the connection sees it: header fields, options and a view of the payload.</summary>
public readonly ref struct IncomingSegment
{
    /// <summary>SEG.SEQ: the sequence number of the first byte (or of the SYN).</summary>
    public readonly SeqNumber Sequence;
    /// <summary>SEG.ACK: the next sequence number the peer expects (meaningful when ACK is set).</summary>
    public readonly SeqNumber Acknowledgment;
    /// <summary>The control bits.</summary>
    public readonly TcpFlags Flags;
    /// <summary>The window field as sent (not yet scaled).</summary>
    public readonly ushort Window;
    /// <summary>The options the connection understands; others are dropped.</summary>
    public readonly SegmentOptions Options;
    /// <summary>The data carried (a view of the received packet, valid only while it is being processed).</summary>
    public readonly ReadOnlySpan<byte> Payload;

    /// <summary>A segment from its fields; <paramref name="payload"/> is referenced, not copied.</summary>
    public IncomingSegment(SeqNumber sequence, SeqNumber acknowledgment, TcpFlags flags, ushort window,
        SegmentOptions options, ReadOnlySpan<byte> payload)
    {
        Sequence = sequence;
        Acknowledgment = acknowledgment;
        Flags = flags;
        Window = window;
        Options = options;
        Payload = payload;
    }

    /// <summary>Reads a segment from a header view (no copy of the payload).</summary>
    public static IncomingSegment From(in TcpHeaderView tcp)
        => new(tcp.Sequence, tcp.Acknowledgment, tcp.Flags, tcp.Window, SegmentOptions.Parse(tcp.OptionBytes), tcp.Payload);

    /// <summary>Sequence space taken: payload plus SYN and FIN.</summary>
    public int SequenceLength => Payload.Length + Flags.SequenceLength();
}

/// <summary>A segment the connection emits; the payload may be in two pieces (a wrapped ring buffer).</summary>
public readonly ref struct OutgoingSegment
{
    /// <summary>SEG.SEQ: the sequence number of the first byte (or of the SYN).</summary>
    public readonly SeqNumber Sequence;
    /// <summary>SEG.ACK: the next sequence number expected from the peer (RCV.NXT).</summary>
    public readonly SeqNumber Acknowledgment;
    /// <summary>The control bits.</summary>
    public readonly TcpFlags Flags;
    /// <summary>The window field as it goes on the wire (already scaled down).</summary>
    public readonly ushort Window;
    /// <summary>The options to write.</summary>
    public readonly SegmentOptions Options;
    /// <summary>The first piece of the payload (a view of the send buffer).</summary>
    public readonly ReadOnlySpan<byte> Payload1;
    /// <summary>The rest of the payload when it wraps around the end of the send buffer; usually empty.</summary>
    public readonly ReadOnlySpan<byte> Payload2;

    /// <summary>A segment from its fields; the payload pieces are referenced, not copied.</summary>
    public OutgoingSegment(SeqNumber sequence, SeqNumber acknowledgment, TcpFlags flags, ushort window,
        SegmentOptions options, ReadOnlySpan<byte> payload1, ReadOnlySpan<byte> payload2)
    {
        Sequence = sequence;
        Acknowledgment = acknowledgment;
        Flags = flags;
        Window = window;
        Options = options;
        Payload1 = payload1;
        Payload2 = payload2;
    }

    /// <summary>Payload bytes in both pieces.</summary>
    public int PayloadLength => Payload1.Length + Payload2.Length;

    /// <summary>TCP header + options + payload length.</summary>
    public int TcpLength => 20 + Options.EncodedLength + PayloadLength;

    /// <summary>Writes the TCP header, options and payload (checksum field zero); returns the length.</summary>
    public int WriteTcp(Span<byte> d, ushort sourcePort, ushort destinationPort)
    {
        int optLen = Options.EncodedLength;
        int hl = 20 + optLen;
        BinaryPrimitives.WriteUInt16BigEndian(d, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], Sequence.Value);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], Acknowledgment.Value);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], (ushort)(((hl / 4) << 12) | ((int)Flags & 0x1FF)));
        BinaryPrimitives.WriteUInt16BigEndian(d[14..], Window);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], 0); // checksum and urgent pointer
        Options.Write(d[20..]);
        Payload1.CopyTo(d[hl..]);
        Payload2.CopyTo(d[(hl + Payload1.Length)..]);
        return hl + PayloadLength;
    }
}

/// <summary>Where a connection puts the segments it emits (the stack encodes and sends them; tests record them).</summary>
public interface ISegmentSink
{
    /// <summary>
    /// Takes one segment. Its payload is a view of the send buffer, valid only during the call:
    /// encode or copy it before returning.
    /// </summary>
    void Send(in OutgoingSegment segment);
}
