using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>When <see cref="SendReceive.RunAsync(IPacketTransport, IReadOnlyList{OutgoingPacket}, SendReceiveOptions?, CancellationToken)"/> stops before its timeout.</summary>
public enum StopCondition
{
    /// <summary>Collect until the timeout.</summary>
    None,
    /// <summary>At the first answer carrying SYN and ACK.</summary>
    SynAck,
    /// <summary>At the first answer carrying RST.</summary>
    Rst,
    /// <summary>At the first answer of any kind (ICMP errors included).</summary>
    Any,
}

/// <summary>One IP packet to send, and how long to wait before sending it.</summary>
public readonly record struct OutgoingPacket(ReadOnlyMemory<byte> Bytes, TimeSpan DelayBefore = default)
{
    /// <summary>The encoded <paramref name="segment"/>.</summary>
    public static OutgoingPacket From(TcpSegment segment, TimeSpan delayBefore = default) => new(segment.ToArray(), delayBefore);

    /// <summary>Sends <paramref name="bytes"/> with no delay.</summary>
    public static implicit operator OutgoingPacket(byte[] bytes) => new(bytes);
}

/// <summary>How a send/receive exchange runs.</summary>
public sealed record SendReceiveOptions
{
    /// <summary>How long to keep collecting after the last packet went out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Stop at the first answer of this kind.</summary>
    public StopCondition Until { get; init; } = StopCondition.None;
    /// <summary>Stop at the first answer for which this returns true (checked besides <see cref="Until"/>).</summary>
    public Func<Answer, bool>? StopWhen { get; init; }
    /// <summary>The clock for delays and the timeout.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>
    /// Accept answers to any sent packet's addresses and ports (scapy's tolerance), not only to the
    /// first packet's. The legacy API matches the first packet only.
    /// </summary>
    public bool MatchAnySent { get; init; } = true;
    /// <summary>Ignore packets arriving with TTL (hop limit) 1, as the legacy API did.</summary>
    public bool IgnoreTtlOne { get; init; }
    /// <summary>Match ICMP errors quoting one of the sent packets.</summary>
    public bool MatchIcmpErrors { get; init; } = true;
    /// <summary>Write every packet sent and every packet captured during the exchange here, as a pcap file (raw IP link type).</summary>
    public Stream? Capture { get; init; }
    /// <summary>Size of the pooled receive buffer; longer packets are cut (and marked truncated).</summary>
    public int ReceiveBufferSize { get; init; } = 65536;
}

/// <summary>A packet that went out.</summary>
/// <param name="Index">Its position in the list given.</param>
/// <param name="Bytes">The IP packet.</param>
/// <param name="Timestamp">When it was handed to the transport (taken just before).</param>
public sealed record SentPacket(int Index, ReadOnlyMemory<byte> Bytes, DateTimeOffset Timestamp)
{
    /// <summary>The parsed segment (null when the bytes are not IP + TCP).</summary>
    public TcpSegment? Segment => SegmentParser.Parse(Bytes.Span).Segment;
}

/// <summary>A packet that answered one we sent: a TCP segment from the peer, or an ICMP error quoting ours.</summary>
/// <param name="Packet">The whole IP packet as received.</param>
/// <param name="Timestamp">When it arrived (the kernel's capture time where the transport has one).</param>
/// <param name="SentIndex">The sent packet it answers (the latest one sent with the matching addresses and ports).</param>
/// <param name="Flow">Its addresses and ports (for an ICMP error: those of the quoted packet).</param>
/// <param name="Icmp">The ICMP error, when it is one.</param>
/// <param name="Truncated">The packet was longer than the receive buffer.</param>
public sealed record Answer(ReadOnlyMemory<byte> Packet, DateTimeOffset Timestamp, int SentIndex, FlowKey Flow, IcmpError? Icmp, bool Truncated)
{
    private SegmentParseResult? _parsed;

    /// <summary>True when this is an ICMP error rather than a TCP segment.</summary>
    public bool IsIcmpError => Icmp is not null;

    /// <summary>The parsed TCP segment with anything wrong in it (for an ICMP error: nothing).</summary>
    public SegmentParseResult Parsed => _parsed ??= IsIcmpError
        ? new SegmentParseResult(null, ParseProblems.NotTcp)
        : SegmentParser.Parse(Packet.Span);

    /// <summary>The TCP segment (null for an ICMP error).</summary>
    public TcpSegment? Segment => Parsed.Segment;

    /// <summary>TCP flags (none for an ICMP error).</summary>
    public TcpFlags Flags => Segment?.Flags ?? TcpFlags.None;
}

/// <summary>What an exchange sent and caught.</summary>
/// <param name="Sent">Packets sent, in order (fewer than given if the exchange stopped early).</param>
/// <param name="Answers">Matching answers in arrival order.</param>
/// <param name="StoppedEarly">The stop condition ended the exchange before the timeout.</param>
/// <param name="Elapsed">From the first send to the end.</param>
/// <param name="PacketsSeen">Every packet the transport delivered during the exchange, matching or not.</param>
public sealed record SendReceiveResult(IReadOnlyList<SentPacket> Sent, IReadOnlyList<Answer> Answers, bool StoppedEarly, TimeSpan Elapsed, long PacketsSeen);
