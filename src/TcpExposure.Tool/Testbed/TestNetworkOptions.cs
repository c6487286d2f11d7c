namespace TcpExposure.Tool.Testbed;

/// <summary>How to build a <see cref="TestNetwork"/>: its size, link MTU and the router's impairments.</summary>
public sealed record TestNetworkOptions
{
    /// <summary>
    /// The namespace name prefix (<c>NAME-cli</c>, <c>NAME-rtr</c>, ...). Null: a prefix unique to
    /// this process and network, <c>tx&lt;pid&gt;x&lt;n&gt;</c>, which the stale sweep recognises.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>Routers in the chain between cli and srv (1 to 8).</summary>
    public int Routers { get; init; } = 1;

    /// <summary>The MTU of every link; null keeps the veth default (1500).</summary>
    public int? Mtu { get; init; }

    /// <summary>Percent of packets the impaired router drops on the way from cli to srv.</summary>
    public double LossToServer { get; init; }

    /// <summary>Percent of packets the impaired router drops on the way from srv to cli.</summary>
    public double LossToClient { get; init; }

    /// <summary>TCP option kinds the impaired router removes from every segment (TCPOPTSTRIP).</summary>
    public IReadOnlyList<int> StripOptions { get; init; } = [];

    /// <summary>The MSS the impaired router clamps SYNs to (TCPMSS --set-mss); null: no clamping.</summary>
    public int? ClampMss { get; init; }

    /// <summary>The impaired router masquerades (source NAT) everything it forwards toward srv.</summary>
    public bool Nat { get; init; }

    /// <summary>
    /// Turn off checksum offload, TSO, GSO and GRO on every veth (needs ethtool), so what the
    /// kernel sends is what a capture sees: finished checksums, segments no larger than the MTU.
    /// </summary>
    public bool DisableOffloads { get; init; } = true;

    /// <summary>Which router (1-based, counted from cli) carries the impairments.</summary>
    public int ImpairedRouter { get; init; } = 1;

    /// <summary>Whether any impairment is configured.</summary>
    public bool HasImpairments =>
        LossToServer > 0 || LossToClient > 0 || StripOptions.Count > 0 || ClampMss is not null || Nat;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Name is not null && !TestNetwork.IsValidName(Name))
            throw new ArgumentException($"Test network name '{Name}' is not valid: use 1 to 20 letters, digits, '_' or '.', starting with a letter.");
        if (Routers is < 1 or > 8)
            throw new ArgumentException($"The number of routers must be between 1 and 8, not {Routers}.");
        if (Mtu is { } mtu && (mtu < 1280 || mtu > 65535))
            throw new ArgumentException($"The MTU must be between 1280 (the IPv6 minimum) and 65535, not {mtu}.");
        foreach (var (loss, dir) in new[] { (LossToServer, "toward srv"), (LossToClient, "toward cli") })
            if (double.IsNaN(loss) || loss < 0 || loss > 100)
                throw new ArgumentException($"The loss {dir} must be a percentage between 0 and 100, not {loss}.");
        foreach (int kind in StripOptions)
            if (kind is < 0 or > 255)
                throw new ArgumentException($"An option kind to strip must be between 0 and 255, not {kind}.");
        if (StripOptions.Any(k => k is 0 or 1))
            throw new ArgumentException("Option kinds 0 (EOL) and 1 (NOP) cannot be stripped: they are padding, not options.");
        if (ClampMss is { } mss && (mss < 1 || mss > 65535))
            throw new ArgumentException($"The MSS to clamp to must be between 1 and 65535, not {mss}.");
        if (ImpairedRouter < 1 || ImpairedRouter > Routers)
            throw new ArgumentException($"The impaired router must be between 1 and {Routers}, not {ImpairedRouter}.");
    }
}
