using System.Net;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Responder.Probe;

/// <summary>How <see cref="ProbeSuite"/> runs.</summary>
public sealed record ProbeOptions
{
    /// <summary>The responder.</summary>
    public required IPEndPoint Target { get; init; }
    /// <summary>Our address (default: the kernel's source address toward the target, in <see cref="Netns"/>).</summary>
    public IPAddress? Source { get; init; }
    /// <summary>The tests to run (default: all), by their legacy names.</summary>
    public IReadOnlyList<string>? Tests { get; init; }
    /// <summary>The network namespace we run in (for the RST guard and the source address).</summary>
    public string? Netns { get; init; }
    /// <summary>Guard each test's source port against the kernel's RSTs (iptables). Off only where something else guards.</summary>
    public bool RstGuard { get; init; } = true;
    /// <summary>How long to wait for the answers of one exchange.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(400);
    /// <summary>Runs per test at most while waiting for two that agree.</summary>
    public int MaxRuns { get; init; } = 4;
    /// <summary>Our SYN's ISN (legacy 252001).</summary>
    public uint Isn { get; init; } = 252001;
    /// <summary>Our window (legacy 8064).</summary>
    public ushort Window { get; init; } = 8064;
    /// <summary>Our MSS, and the size of a full data segment (legacy 512).</summary>
    public ushort Mss { get; init; } = 512;
    /// <summary>Our timestamp option (legacy 13572468, 0).</summary>
    public uint TsVal { get; init; } = 13572468;
    /// <summary>Our window scale (legacy 2).</summary>
    public byte WindowScale { get; init; } = 2;
    /// <summary>The responder's window the tests compare with (legacy 32768).</summary>
    public ushort ResponderWindow { get; init; } = 32768;
    /// <summary>Source ports are drawn from this range (legacy 20000-49999).</summary>
    public int PortLow { get; init; } = 20000;
    /// <summary>Upper end of <see cref="PortLow"/>'s range, inclusive.</summary>
    public int PortHigh { get; init; } = 49999;
    /// <summary>Every packet sent and captured goes here as pcap (raw IP link type).</summary>
    public Stream? Capture { get; init; }
    /// <summary>Clock for timeouts.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Called when a test starts and when it ends (test, run, outcome or null).</summary>
    public Action<string, int, ProbeOutcome?>? Progress { get; init; }
}
