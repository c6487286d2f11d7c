using System.Net;

namespace TcpExposure.Tool.Testbed;

/// <summary>One interface of a test host: a veth end with its IPv4 and IPv6 address.</summary>
/// <param name="Name">The interface name inside the host's namespace (eth0, eth1).</param>
/// <param name="Address">Its IPv4 address.</param>
/// <param name="PrefixLength">The IPv4 prefix length.</param>
/// <param name="Address6">Its IPv6 address.</param>
/// <param name="PrefixLength6">The IPv6 prefix length.</param>
/// <param name="Peer">The host at the other end of the link.</param>
public sealed record TestInterface(string Name, IPAddress Address, int PrefixLength, IPAddress Address6, int PrefixLength6, string Peer);

/// <summary>A host of the test network: a network namespace with its interfaces.</summary>
public sealed class TestHost
{
    internal TestHost(string name, string netns, IReadOnlyList<TestInterface> interfaces, bool isRouter)
    {
        Name = name;
        Namespace = netns;
        Interfaces = interfaces;
        IsRouter = isRouter;
    }

    /// <summary>The host's short name: cli, srv, rtr (or rtr1, rtr2, ... in a chain).</summary>
    public string Name { get; }

    /// <summary>The network namespace, <c>PREFIX-NAME</c>.</summary>
    public string Namespace { get; }

    /// <summary>Its interfaces; cli and srv have one, routers two (eth0 toward cli, eth1 toward srv).</summary>
    public IReadOnlyList<TestInterface> Interfaces { get; }

    /// <summary>Whether it forwards.</summary>
    public bool IsRouter { get; }

    /// <summary>The IPv4 address of its first interface (for a router: the one facing cli).</summary>
    public IPAddress Address => Interfaces[0].Address;

    /// <summary>The IPv6 address of its first interface.</summary>
    public IPAddress Address6 => Interfaces[0].Address6;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Namespace})";
}
