using System.Net;
using System.Net.NetworkInformation;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Responder.Hosting;

/// <summary>How the responder and the probe reach the wire.</summary>
public enum TransportKind
{
    /// <summary>Raw IP sockets to send, AF_PACKET capture to receive.</summary>
    Raw,
    /// <summary>libpcap on one interface, both ways.</summary>
    Pcap,
}

/// <summary>Opens a transport, possibly inside a network namespace (sockets keep the namespace they were made in).</summary>
public static class TransportFactory
{
    /// <summary>Parses "raw" / "pcap".</summary>
    public static bool TryParse(string? text, out TransportKind kind)
    {
        kind = text switch { "raw" => TransportKind.Raw, "pcap" => TransportKind.Pcap, _ => (TransportKind)(-1) };
        return kind is TransportKind.Raw or TransportKind.Pcap;
    }

    /// <summary>
    /// Opens <paramref name="kind"/> in <paramref name="netns"/> (null: the current namespace). For
    /// libpcap the interface and the next hop's MAC are those of the route toward
    /// <paramref name="toward"/>; <paramref name="filter"/> narrows the capture.
    /// </summary>
    public static IPacketTransport Open(TransportKind kind, string? netns, IPAddress toward, string? iface = null, string? filter = null)
    {
        if (kind == TransportKind.Raw)
            return NetworkNamespace.Run<IPacketTransport>(netns, () => new RawSocketTransport(new RawSocketTransportOptions { Interface = iface }));
        // The route and the neighbour table are read with `ip -n NETNS`, so only the capture handle
        // needs the namespaced thread. Resolving the next hop waits on the kernel's ARP: setup, once.
        var route = Routes.Lookup(toward, netns);
        var mac = Routes.ResolveNextHopMacAsync(route, TimeSpan.FromSeconds(3)).GetAwaiter().GetResult();
        var options = new PcapTransportOptions { Interface = iface ?? route.Interface, DestinationMac = mac };
        if (filter is not null)
            options = options with { Filter = filter };
        return NetworkNamespace.Run<IPacketTransport>(netns, () => new PcapTransport(options));
    }
}
