using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CommandLine;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure send</c>: puts crafted segments on the wire over a raw socket or libpcap, prints
/// what went out and every answer (TCP from the peer, ICMP errors quoting ours); or floods.
/// </summary>
[Verb("send", HelpText = "Send crafted TCP segments (raw socket or libpcap) and print every answer; --count/--rate flood.")]
public sealed class SendCommand : ICommand
{
    /// <summary>--dst: the destination ADDRESS:PORT ([ADDRESS]:PORT for IPv6); needed with --segment.</summary>
    [Option("dst", HelpText = "Destination ADDRESS:PORT ([v6addr]:port for IPv6).")]
    public string? Destination { get; set; }

    /// <summary>--src: the source ADDRESS:PORT, ADDRESS or :PORT; what is left out is the route's source address and a random port.</summary>
    [Option("src", HelpText = "Source ADDRESS:PORT, ADDRESS or :PORT (default: the route's source address and a random port).")]
    public string? Source { get; set; }

    /// <summary>--segment (repeatable): segments in packetdrill notation, sent in order.</summary>
    [Option("segment", Separator = '\u0001', HelpText = "A segment in packetdrill notation, e.g. \"S 0:0(0) win 8192 <mss 1460>\"; repeat for more.")]
    public IEnumerable<string> Segments { get; set; } = [];

    /// <summary>--hex (repeatable): whole IP packets as hex, sent exactly as given.</summary>
    [Option("hex", Separator = '\u0001', HelpText = "A whole IP packet in hex, sent exactly as given; repeat for more.")]
    public IEnumerable<string> Hex { get; set; } = [];

    /// <summary>--delay: seconds to wait before each packet after the first (0 to 86400); default 0.</summary>
    [Option("delay", Default = 0.0, HelpText = "Seconds to wait before each packet after the first.")]
    public double Delay { get; set; }

    /// <summary>--via: the transport: raw (raw sockets, the default) or pcap (libpcap).</summary>
    [Option("via", Default = "raw", HelpText = "Transport: raw (raw sockets) or pcap (libpcap).")]
    public string Via { get; set; } = "raw";

    /// <summary>--iface: the interface to send and capture on; null uses the route's.</summary>
    [Option("iface", HelpText = "Interface to send and capture on (default: the route's).")]
    public string? Interface { get; set; }

    /// <summary>--timeout: seconds to keep listening for answers after the last packet (0 to 86400); default 1.</summary>
    [Option("timeout", Default = 1.0, HelpText = "Seconds to wait for answers after the last packet.")]
    public double Timeout { get; set; } = 1.0;

    /// <summary>--until: stop listening at the first answer of this kind (none, synack, rst, any); default none.</summary>
    [Option("until", Default = StopCondition.None, HelpText = "Stop at the first answer of a kind: none, synack, rst, any.")]
    public StopCondition Until { get; set; }

    /// <summary>--pcap: a pcap file to record every packet sent and captured.</summary>
    [Option("pcap", HelpText = "Write every packet sent and captured to this pcap file.")]
    public string? PcapFile { get; set; }

    /// <summary>--json: print one JSON object per line (each packet sent or answer received, or the flood's totals) instead of text.</summary>
    [Option("json", HelpText = "Print one JSON object per line instead of text.")]
    public bool Json { get; set; }

    /// <summary>--netns: the network namespace to send from (from <c>ip netns add</c> or the testbed); null uses the current one.</summary>
    [Option("netns", HelpText = "Run inside this network namespace (as made by `ip netns add` or the testbed).")]
    public string? Netns { get; set; }

    /// <summary>--count: flood mode when above 0: send the first segment this many times, varying the source port; no answers are read.</summary>
    [Option("count", Default = 0L, HelpText = "Flood: send the (first) segment this many times, varying the source port.")]
    public long Count { get; set; }

    /// <summary>--rate: flood rate in packets per second; 0 (the default) sends as fast as possible.</summary>
    [Option("rate", Default = 0.0, HelpText = "Flood: packets per second (0: as fast as possible).")]
    public double Rate { get; set; }

    /// <summary>--no-rst-guard: let the kernel's RSTs from our source port out instead of dropping them with an iptables rule.</summary>
    [Option("no-rst-guard", HelpText = "Do not drop the kernel's RSTs from our source port.")]
    public bool NoRstGuard { get; set; }

    /// <inheritdoc/>
    public int Execute()
    {
        Validate();
        return ExecuteAsync().GetAwaiter().GetResult();
    }

    private const double MaxSeconds = 86_400; // a day: longer is a typo, and TimeSpan has limits

    private void Validate()
    {
        if (Via is not ("raw" or "pcap"))
            throw new UsageException($"--via must be raw or pcap, not '{Via}'.");
        if (double.IsNaN(Timeout) || Timeout is < 0 or > MaxSeconds)
            throw new UsageException($"--timeout must be from 0 to {MaxSeconds} seconds.");
        if (double.IsNaN(Delay) || Delay is < 0 or > MaxSeconds)
            throw new UsageException($"--delay must be from 0 to {MaxSeconds} seconds.");
        if (Netns is not null && !NetworkNamespace.IsValidName(Netns))
            throw new UsageException($"--netns '{Netns}' is not a valid network namespace name.");
        if (Interface is not null && !NetworkInterfaceName.IsValid(Interface))
            throw new UsageException($"--iface '{Interface}' is not an interface name (1 to 15 characters, no '/', ':' or white space).");
        if (Count < 0) throw new UsageException("--count must be zero or more.");
        if (Rate < 0 || double.IsNaN(Rate)) throw new UsageException("--rate must be zero or more packets per second.");
        if (!Segments.Any() && !Hex.Any())
            throw new UsageException("Give at least one --segment or --hex packet.");
        if (Segments.Any() && Destination is null)
            throw new UsageException("--segment needs --dst ADDRESS:PORT.");
    }

    private async Task<int> ExecuteAsync()
    {
        var packets = BuildPackets(out var source);
        // Everything that opens a socket runs inside the namespace (sockets keep the namespace they were made in).
        if (Count > 0)
        {
            var flood = new FloodSender(packets[0].Bytes, Rate, Count);
            await using var t = await OpenAsync(packets[0].Bytes, receive: false).ConfigureAwait(false);
            var result = await flood.RunAsync(t, progress: Json ? null : Console.Error).ConfigureAwait(false);
            WriteFlood(result);
            return 0;
        }
        await using var transport = await OpenAsync(packets[0].Bytes, receive: true).ConfigureAwait(false);
        using var guard = MaybeGuard(packets[0].Bytes);
        using var capture = PcapFile is null ? null : File.Create(PcapFile);
        var options = new SendReceiveOptions
        {
            Timeout = TimeSpan.FromSeconds(Timeout),
            Until = Until,
            Capture = capture,
        };
        var result2 = await SendReceive.RunAsync(transport, packets, options).ConfigureAwait(false);
        Print(result2);
        return 0;
    }

    /// <summary>
    /// The kernel answers every segment to a port it has no socket on with an RST, which would end
    /// whatever we are doing on that port: guard it unless the kernel owns the port (then the
    /// kernel's own socket is the one talking) or the user said no.
    /// </summary>
    private RstGuard? MaybeGuard(ReadOnlyMemory<byte> first)
    {
        if (NoRstGuard || !FlowKey.TryRead(first.Span, out var key) || KernelOwns(key.Source, key.SourcePort))
            return null;
        try
        {
            return RstGuard.Create(key.Source, key.SourcePort, Netns);
        }
        catch (MissingPrivilegeException e)
        {
            throw new MissingPrivilegeException(e.Capability, e.Message + " Or pass --no-rst-guard to let the kernel's RSTs out.");
        }
    }

    /// <summary>True when a kernel TCP socket holds the port: binding it then fails.</summary>
    private bool KernelOwns(IPAddress address, int port)
    {
        using var probe = NetworkNamespace.Run(Netns, () => new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            return false; // not one of our addresses (spoofed source): no kernel socket can own it
        }
    }

    private async Task<IPacketTransport> OpenAsync(ReadOnlyMemory<byte> first, bool receive)
    {
        if (Netns is not null && !NetworkNamespace.Exists(Netns))
            throw new IOException($"Network namespace '{Netns}' does not exist (see `ip netns list`).");
        if (!FlowKey.TryRead(first.Span, out var key) && Via == "pcap" && Interface is null)
            throw new UsageException("With --via pcap, a packet that is not TCP needs --iface.");
        if (Via == "raw")
        {
            // Our own packets carry the guard's exempt mark, so a crafted RST still leaves (SO_MARK needs CAP_NET_ADMIN).
            uint? mark = Privileges.Has(Capability.NetAdmin) ? RstGuard.ExemptMark : null;
            return new RawSocketTransport(new RawSocketTransportOptions { Namespace = Netns, Interface = Interface, Receive = receive, FirewallMark = mark });
        }
        var route = Routes.Lookup(key.Destination, Netns);
        var mac = await Routes.ResolveNextHopMacAsync(route, TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        return new PcapTransport(new PcapTransportOptions { Namespace = Netns, Interface = Interface ?? route.Interface, DestinationMac = Interface is null || Interface == route.Interface ? mac : null });
    }

    private List<OutgoingPacket> BuildPackets(out IPEndPoint? source)
    {
        var delay = TimeSpan.FromSeconds(Delay);
        var list = new List<OutgoingPacket>();
        source = null;
        foreach (string h in Hex)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromHexString(string.Concat(h.Where(c => !char.IsWhiteSpace(c) && c != ':')));
            }
            catch (FormatException)
            {
                throw new UsageException($"--hex '{Shorten(h)}' is not hexadecimal.");
            }
            if (bytes.Length < 20 || (bytes[0] >> 4) is not (4 or 6))
                throw new UsageException($"--hex '{Shorten(h)}' is not an IPv4 or IPv6 packet.");
            list.Add(new OutgoingPacket(bytes, list.Count == 0 ? TimeSpan.Zero : delay));
        }
        if (Segments.Any())
        {
            var dst = EndpointArgument.Parse(Destination, "--dst");
            source = ResolveSource(dst);
            foreach (string s in Segments)
            {
                TcpSegment seg;
                try
                {
                    seg = SegmentNotation.Parse(s, source, dst);
                }
                catch (NotationException e)
                {
                    throw new UsageException($"--segment \"{s}\": {e.Message}");
                }
                list.Add(new OutgoingPacket(seg.ToArray(), list.Count == 0 ? TimeSpan.Zero : delay));
            }
        }
        return list;
    }

    private IPEndPoint ResolveSource(IPEndPoint dst)
    {
        IPAddress? address = null;
        int port = 0;
        if (Source is { } s)
        {
            if (s.StartsWith(':') && int.TryParse(s.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int p))
                port = p;
            else if (AddressArgument.TryParse(s, out var a) && !s.Contains("]:", StringComparison.Ordinal) && (a.AddressFamily == AddressFamily.InterNetworkV6 || !s.Contains(':')))
                address = a;
            else
            {
                var ep = EndpointArgument.Parse(s, "--src");
                address = ep.Address;
                port = ep.Port;
            }
            if (port is < 0 or > 65535) throw new UsageException($"--src port {port} is out of range.");
        }
        address ??= Routes.SourceAddressFor(dst.Address, Netns);
        if (address.AddressFamily != dst.AddressFamily)
            throw new UsageException("--src and --dst must both be IPv4 or both IPv6.");
        if (port == 0) port = Random.Shared.Next(40000, 60000);
        return new IPEndPoint(address, port);
    }

    private static string Shorten(string s) => s.Length > 24 ? s[..24] + "..." : s;

    private void Print(SendReceiveResult r)
    {
        var events = r.Sent.Select(s => (Time: s.Timestamp, Sent: true, Bytes: s.Bytes, Answer: (Answer?)null))
            .Concat(r.Answers.Select(a => (Time: a.Timestamp, Sent: false, Bytes: a.Packet, Answer: (Answer?)a)))
            .OrderBy(e => e.Time).ToList();
        var t0 = r.Sent.Count > 0 ? r.Sent[0].Timestamp : DateTimeOffset.UtcNow;
        if (Json)
        {
            foreach (var e in events)
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms))
                {
                    w.WriteStartObject();
                    w.WriteString("dir", e.Sent ? "sent" : "recv");
                    w.WriteNumber("t_ms", Math.Round((e.Time - t0).TotalMilliseconds, 3));
                    if (e.Answer is { } a)
                    {
                        w.WriteNumber("answers", a.SentIndex);
                        if (a.Icmp is { } icmp)
                        {
                            w.WriteStartObject("icmp");
                            w.WriteNumber("version", icmp.Version);
                            w.WriteNumber("type", icmp.Type);
                            w.WriteNumber("code", icmp.Code);
                            w.WriteString("reporter", icmp.Reporter.ToString());
                            w.WriteString("text", icmp.Describe());
                            w.WriteEndObject();
                        }
                    }
                    w.WriteString("hex", Convert.ToHexStringLower(e.Bytes.Span));
                    w.WritePropertyName("packet");
                    JsonSummary.Write(w, e.Bytes.Span);
                    w.WriteEndObject();
                }
                Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
            }
            return;
        }
        foreach (var e in events)
        {
            string dir = e.Sent ? "sent" : "recv";
            string line = e.Answer?.Icmp is { } icmp
                ? $"{icmp.Describe()} quoting {TcpdumpSummary.Format(icmp.QuotedBytes.Span)}"
                : TcpdumpSummary.Format(e.Bytes.Span);
            Console.Out.WriteLine($"{dir} {(e.Time - t0).TotalMilliseconds,9:0.000} ms  {line}");
        }
        Console.Out.WriteLine($"{r.Sent.Count} sent, {r.Answers.Count} answer(s){(r.StoppedEarly ? ", stopped at the first " + Until.ToString().ToLowerInvariant() : "")}, {r.Elapsed.TotalMilliseconds:0.0} ms");
    }

    private void WriteFlood(FloodResult r)
    {
        if (Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { sent = r.Sent, failed = r.Failed, seconds = r.Elapsed.TotalSeconds, rate_pps = Math.Round(r.Rate, 1) }));
            return;
        }
        Console.Out.WriteLine($"flood: {r.Sent} sent, {r.Failed} refused by the kernel, {r.Elapsed.TotalSeconds:0.000} s, {r.Rate:0} packets/s");
    }
}
