using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;
using TcpExposure.Stateful;
using TcpExposure.Tool.Commands;
using TcpListener = TcpExposure.Stateful.TcpListener;

namespace TcpExposure.Tool.Stateful;

/// <summary>How the user-space TCP reaches the wire.</summary>
public enum StackTransport
{
    /// <summary>Raw IP sockets to send, an AF_PACKET socket to capture.</summary>
    Raw,
    /// <summary>libpcap on the interface toward <c>--peer</c>.</summary>
    Pcap,
}

/// <summary>
/// A <see cref="TcpStack"/> on a real transport, for the <c>serve</c> and <c>repl</c> verbs: picks
/// the address, opens the transport (inside a network namespace when asked), and keeps the kernel
/// from resetting our connections (an RST guard per listening port, one range guard for the
/// ephemeral ports of active opens).
/// </summary>
public sealed class StackHost : IAsyncDisposable
{
    /// <summary>Local ports our active opens use; the kernel's own range (32768-60999) is left alone below it.</summary>
    public const ushort EphemeralFirst = 61000, EphemeralLast = 65535;

    private readonly List<IDisposable> _guards = [];
    private readonly string? _netns;
    private PortRangeRstGuard? _ephemeralGuard;

    private StackHost(TcpStack stack, IPacketTransport transport, string? netns)
    {
        Stack = stack;
        Transport = transport;
        _netns = netns;
    }

    /// <summary>The user-space TCP stack, bound to <see cref="Address"/>.</summary>
    public TcpStack Stack { get; }
    /// <summary>The transport (raw sockets or libpcap) the stack sends and receives through.</summary>
    public IPacketTransport Transport { get; }
    /// <summary>The local IP address the stack answers on and opens connections from.</summary>
    public IPAddress Address => Stack.LocalAddress;

    /// <summary>
    /// Validates the options and opens the stack; bad values throw <see cref="UsageException"/>.
    /// <paramref name="offload"/> (raw transport only): batched segments to peers heard from on Ethernet
    /// leave as TCP super-packets through an AF_PACKET socket, the kernel cutting them into segments and
    /// finishing the checksums.
    /// </summary>
    public static StackHost Open(string? addr, string? netns, StackTransport via, string? peer, TcpConfig? config = null, bool offload = true)
    {
        if (netns is not null && !NetworkNamespace.IsValidName(netns))
            throw new UsageException($"--netns '{netns}' is not a valid network namespace name.");
        if (netns is not null && !NetworkNamespace.Exists(netns))
            throw new UsageException($"Network namespace '{netns}' does not exist.");
        IPAddress? address = null;
        if (addr is not null && !IPAddress.TryParse(addr, out address))
            throw new UsageException($"--addr '{addr}' is not an IPv4 or IPv6 address.");
        IPAddress? peerAddress = null;
        if (peer is not null && !IPAddress.TryParse(peer, out peerAddress))
            throw new UsageException($"--peer '{peer}' is not an IPv4 or IPv6 address.");
        if (via == StackTransport.Pcap && peerAddress is null)
            throw new UsageException("--via pcap needs --peer ADDR: libpcap sends every frame to the next hop toward that address.");

        Privileges.Require("The user-space TCP (raw sockets)", Capability.NetRaw);
        address ??= NetworkNamespace.Run(netns, () => FirstAddress(peerAddress));
        IPacketTransport transport = via switch
        {
            // libpcap toward the peer's next hop, opened as the responder and the probe open it.
            StackTransport.Pcap => TcpExposure.Responder.Hosting.TransportFactory.Open(TcpExposure.Responder.Hosting.TransportKind.Pcap, netns, peerAddress!),
            _ => NetworkNamespace.Run(netns, () => (IPacketTransport)new RawSocketTransport(new RawSocketTransportOptions
            {
                // Our own RSTs carry the exempt mark, so the RST guards drop only the kernel's.
                FirewallMark = RstGuard.ExemptMark,
                SegmentationOffload = offload,
            })),
        };
        var options = new TcpStackOptions
        {
            Connection = config ?? new TcpConfig(),
            // The kernel owns the address too and answers for its own ports.
            ResetUnknownConnections = false,
            // Packets the kernel sends over veth carry partial (offloaded) checksums in a capture.
            VerifyChecksums = false,
            EphemeralPortFirst = EphemeralFirst,
            EphemeralPortLast = EphemeralLast,
        };
        var stack = new TcpStack(transport, address, options, PreciseTimeProvider.Instance);
        var host = new StackHost(stack, transport, netns);
        stack.Start();
        return host;
    }

    /// <summary>Keeps the kernel from resetting connections to <paramref name="port"/>.</summary>
    public void GuardPort(int port)
    {
        lock (_guards)
            _guards.Add(RstGuard.Create(Address, port, _netns));
    }

    /// <summary>Keeps the kernel from resetting the SYN-ACKs and data of our active opens.</summary>
    public void GuardEphemeralPorts()
    {
        lock (_guards)
            _ephemeralGuard ??= PortRangeRstGuard.Create(Address, EphemeralFirst, EphemeralLast, _netns);
    }

    /// <summary>Listens on <paramref name="port"/> behind an RST guard.</summary>
    public TcpListener Listen(int port)
    {
        if (port is < 1 or > 65535)
            throw new UsageException($"Port {port} is not from 1 to 65535.");
        GuardPort(port);
        return Stack.Listen((ushort)port);
    }

    /// <summary>Active open (behind the ephemeral-range guard).</summary>
    public Task<TcpSocket> ConnectAsync(IPEndPoint remote, CancellationToken ct = default)
    {
        GuardEphemeralPorts();
        return Stack.ConnectAsync(remote, ct);
    }

    private static IPAddress FirstAddress(IPAddress? preferFamilyOf)
    {
        var family = preferFamilyOf?.AddressFamily ?? AddressFamily.InterNetwork;
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback || nic.OperationalStatus == OperationalStatus.Down)
                continue;
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
                if (a.Address.AddressFamily == family && !a.Address.IsIPv6LinkLocal)
                    return a.Address;
        }
        throw new UsageException("No non-loopback address found here; give one with --addr.");
    }

    /// <summary>Closes the stack and its transport, then removes the RST guards (the iptables rules) it installed.</summary>
    public async ValueTask DisposeAsync()
    {
        await Stack.DisposeAsync().ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        lock (_guards)
        {
            foreach (var g in _guards)
                g.Dispose();
            _guards.Clear();
            _ephemeralGuard?.Dispose();
            _ephemeralGuard = null;
        }
    }
}
