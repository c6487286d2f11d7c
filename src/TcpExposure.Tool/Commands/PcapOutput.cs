namespace TcpExposure.Tool.Commands;

/// <summary>Placeholder until the pcap writer lands in main.</summary>
internal static class PcapOutput
{
    public static void WriteRawIp(string path, IEnumerable<byte[]> packets)
        => throw new UsageException("--pcap is not available yet in this build.");
}
