using System.Globalization;
using CommandLine;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Pcap;

namespace TcpExposure.Tool.Commands;

/// <summary>Prints one summary line per packet of a capture file.</summary>
[Verb("read", HelpText = "Print one summary line per packet of a pcap or pcapng file.")]
public sealed class ReadCommand : ICommand
{
    /// <summary>FILE: the capture to read: pcap (micro- or nanosecond timestamps, either byte order) or pcapng.</summary>
    [Value(0, MetaName = "FILE", Required = true, HelpText = "A pcap (micro- or nanosecond, either byte order) or pcapng file.")]
    public string File { get; set; } = "";

    /// <summary>--format: how each packet is summarised: legacy, tcpdump (the default), drill or json.</summary>
    [Option("format", Default = SummaryFormat.Tcpdump, HelpText = "Summary style: legacy, tcpdump, drill or json.")]
    public SummaryFormat Format { get; set; } = SummaryFormat.Tcpdump;

    /// <inheritdoc/>
    public int Execute()
    {
        if (!System.IO.File.Exists(File))
            throw new UsageException($"'{File}' does not exist.");
        // Console.Out flushes every line; batch lines so a capture of millions of packets is not a syscall each.
        var batch = new System.Text.StringBuilder(capacity: 1 << 16);
        int count = 0;
        try
        {
            foreach (var record in PcapReader.ReadFile(File))
            {
                count++;
                batch.AppendLine(Line(record, count));
                if (batch.Length >= 1 << 15)
                {
                    Console.Out.Write(batch);
                    batch.Clear();
                }
            }
        }
        catch (InvalidDataException e)
        {
            Console.Out.Write(batch);
            Console.Error.WriteLine($"tcpexposure: {File}: {e.Message} (after {count} packet{(count == 1 ? "" : "s")})");
            return 1;
        }
        Console.Out.Write(batch);
        return 0;
    }

    private string Line(PcapRecord record, int number)
    {
        var frame = record.Data.Span;
        string summary;
        if (LinkLayer.TryGetIpOffset(record.LinkType, frame, out int offset) && offset <= frame.Length)
            summary = PacketSummary.Format(frame[offset..], Format);
        else
        {
            string problem = $"no IPv4 or IPv6 packet in this {record.LinkType} frame ({frame.Length} bytes)";
            summary = Format == SummaryFormat.Json
                ? $"{{\"problems\":[{System.Text.Json.JsonSerializer.Serialize(problem)}]}}"
                : $"# packet {number}: {problem}";
        }
        return Format switch
        {
            // As tcpdump -r prints it: the time of day first.
            SummaryFormat.Tcpdump => record.Timestamp.UtcDateTime.ToString("HH:mm:ss.ffffff ", CultureInfo.InvariantCulture) + summary,
            SummaryFormat.Json when summary.StartsWith('{') => JsonPrefix(record) + summary[1..],
            _ => summary,
        };
    }

    private static string JsonPrefix(PcapRecord r) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"time\":\"{r.Timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}\",\"linkType\":\"{r.LinkType}\",\"capturedLength\":{r.Data.Length},\"originalLength\":{r.OriginalLength},");
}
