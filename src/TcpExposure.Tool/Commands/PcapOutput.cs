using TcpExposure.Craft.Pcap;

namespace TcpExposure.Tool.Commands;

/// <summary>Writes crafted packets to a classic pcap file with link type raw IP.</summary>
internal static class PcapOutput
{
    public static void WriteRawIp(string path, IEnumerable<byte[]> packets)
    {
        using var writer = PcapWriter.Create(path, LinkType.Raw);
        var now = DateTimeOffset.UtcNow;
        foreach (var p in packets)
            writer.Write(p, now);
        writer.Flush();
    }
}
