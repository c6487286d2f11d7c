namespace TcpExposure.Craft.Pcap;

/// <summary>
/// One packet read from a pcap or pcapng file.
/// </summary>
/// <param name="Timestamp">When it was captured. <see cref="DateTimeOffset"/> holds 100-ns ticks,
/// so finer file resolutions are truncated to that.</param>
/// <param name="LinkType">The link-layer type of the interface it was captured on.</param>
/// <param name="Data">The captured bytes (possibly fewer than <paramref name="OriginalLength"/>).</param>
/// <param name="OriginalLength">The length of the packet on the wire.</param>
public readonly record struct PcapRecord(DateTimeOffset Timestamp, LinkType LinkType, ReadOnlyMemory<byte> Data, int OriginalLength)
{
    /// <summary>True when the capture kept fewer bytes than the packet had.</summary>
    public bool IsTruncated => Data.Length < OriginalLength;
}
