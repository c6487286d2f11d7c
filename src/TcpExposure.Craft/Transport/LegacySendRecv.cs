using System.Net;
using System.Net.NetworkInformation;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The legacy tcpsrlib <c>send_segments</c> / <c>sendrecv_segments</c> (LEGACY_API.md), on top of
/// <see cref="SendReceive"/>. Same arguments and result shapes; fixed: the SYN early return works
/// on both paths (it returns at the first matching reply carrying SYN, ACK or RST), and the
/// timeout holds to milliseconds on both paths.
/// </summary>
public static class LegacySendRecv
{
    [ThreadStatic] private static string? _lastError;

    /// <summary>Why the last call on this thread returned -1 (null after a success).</summary>
    public static string? LastError => _lastError;

    /// <summary>
    /// Sends <paramref name="pkts"/> (IPv4 + TCP, as from make_segment) and collects replies for
    /// <paramref name="timeout"/> seconds after the last one went out. A reply counts when its
    /// addresses and ports are those of <c>pkts[0]</c> reversed; replies with TTL 1 are ignored.
    /// With <paramref name="sflags"/> holding SYN (0x02) it returns at the first reply carrying SYN,
    /// ACK or RST. <paramref name="usePcap"/> sends through libpcap on <paramref name="ifname"/>
    /// with an Ethernet header from <paramref name="smac"/>/<paramref name="dmac"/> ("aa:bb:..",
    /// or the legacy integer form; empty: the interface's MAC and the neighbour table's). Returns
    /// the replies as parse_headers tuples, and err 0, or -1 (see <see cref="LastError"/>).
    /// </summary>
    public static (List<LegacyParsed> Answers, int Err) SendRecvSegments(uint daddr, IReadOnlyList<byte[]> pkts, double timeout = 1.0,
        int sflags = 0, bool usePcap = false, string ifname = "", string? smac = null, string? dmac = null)
    {
        _lastError = null;
        var answers = new List<LegacyParsed>();
        try
        {
            if (pkts.Count == 0)
                return (answers, 0);
            var options = new SendReceiveOptions
            {
                Timeout = TimeSpan.FromSeconds(Math.Max(0, timeout)),
                MatchAnySent = false,
                IgnoreTtlOne = true,
                MatchIcmpErrors = false,
                StopWhen = (sflags & (int)TcpFlags.Syn) != 0
                    ? a => (a.Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) != 0
                    : null,
            };
            var result = RunAsync(daddr, pkts, options, usePcap, ifname, smac, dmac).GetAwaiter().GetResult();
            foreach (var a in result.Answers)
                answers.Add(LegacyCraft.ParseHeaders(a.Packet.Span));
            return (answers, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or FormatException or System.Net.Sockets.SocketException)
        {
            _lastError = e.Message;
            return (answers, -1);
        }
    }

    /// <summary><c>send_segments</c>: sends <paramref name="pkts"/>; 0 on success, -1 on failure (see <see cref="LastError"/>).</summary>
    public static int SendSegments(uint daddr, IReadOnlyList<byte[]> pkts, bool usePcap = false, string ifname = "", string? smac = null, string? dmac = null)
    {
        _lastError = null;
        try
        {
            using var transport = new TransportLease(Open(daddr, usePcap, ifname, smac, dmac, receive: false).GetAwaiter().GetResult());
            foreach (var p in pkts)
                transport.Value.SendAsync(p).AsTask().GetAwaiter().GetResult();
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or FormatException or System.Net.Sockets.SocketException)
        {
            _lastError = e.Message;
            return -1;
        }
    }

    private static async Task<SendReceiveResult> RunAsync(uint daddr, IReadOnlyList<byte[]> pkts, SendReceiveOptions options,
        bool usePcap, string ifname, string? smac, string? dmac)
    {
        await using var transport = await Open(daddr, usePcap, ifname, smac, dmac, receive: true).ConfigureAwait(false);
        return await SendReceive.RunAsync(transport, pkts.Select(p => new OutgoingPacket(p)).ToList(), options).ConfigureAwait(false);
    }

    private static async Task<IPacketTransport> Open(uint daddr, bool usePcap, string ifname, string? smac, string? dmac, bool receive)
    {
        string? iface = string.IsNullOrEmpty(ifname) ? null : ifname;
        if (!usePcap)
            return new RawSocketTransport(new RawSocketTransportOptions { Interface = iface, Receive = receive });
        var destination = LegacyCraft.AddressFromHostOrder(daddr);
        PhysicalAddress? source = IsGiven(smac) ? Routes.ParseMac(smac!) : null;
        PhysicalAddress? next = IsGiven(dmac) ? Routes.ParseMac(dmac!) : null;
        if (iface is null || next is null)
        {
            var route = Routes.Lookup(destination);
            iface ??= route.Interface;
            next ??= await Routes.ResolveNextHopMacAsync(route, TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }
        return new PcapTransport(new PcapTransportOptions { Interface = iface, SourceMac = source, DestinationMac = next });
    }

    private static bool IsGiven(string? mac) => !string.IsNullOrEmpty(mac) && mac != "0";

    private readonly struct TransportLease(IPacketTransport value) : IDisposable
    {
        public IPacketTransport Value { get; } = value;
        public void Dispose() => Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
