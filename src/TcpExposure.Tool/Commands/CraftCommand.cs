using System.Globalization;
using CommandLine;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Tool.Commands;

/// <summary>Builds one segment from a packetdrill-style line and prints, dumps or saves it.</summary>
[Verb("craft", HelpText = "Build one TCP segment from a packetdrill-style line, e.g. --segment \"S 0:0(0) win 8192 <mss 512,sackOK>\", and print it.")]
public sealed class CraftCommand : ICommand
{
    [Option("src", Required = true, HelpText = "Source ADDRESS:PORT ([ADDRESS]:PORT for IPv6).")]
    public string Source { get; set; } = "";

    [Option("dst", Required = true, HelpText = "Destination ADDRESS:PORT ([ADDRESS]:PORT for IPv6).")]
    public string Destination { get; set; } = "";

    [Option("segment", Required = true, HelpText = "The segment: FLAGS [start:end(len)] [ack N] [win N] [urg N] [<options>] [ttl N] [tos N] [id N] [df] [res N] [doff N] [csum 0xN] [ipcsum 0xN].")]
    public string Segment { get; set; } = "";

    [Option("format", Default = SummaryFormat.Tcpdump, HelpText = "Summary style: legacy, tcpdump, drill or json.")]
    public SummaryFormat Format { get; set; } = SummaryFormat.Tcpdump;

    [Option("hex", HelpText = "Also print the packet's bytes in hex (on the line after the summary).")]
    public bool Hex { get; set; }

    [Option("pcap", HelpText = "Write the packet to this pcap file (link type raw IP).")]
    public string? Pcap { get; set; }

    [Option("payload-hex", HelpText = "The payload as hex digits.")]
    public string? PayloadHex { get; set; }

    [Option("payload-file", HelpText = "Read the payload from this file.")]
    public string? PayloadFile { get; set; }

    public int Execute()
    {
        var src = EndpointArgument.Parse(Source, "--src");
        var dst = EndpointArgument.Parse(Destination, "--dst");
        if (src.AddressFamily != dst.AddressFamily)
            throw new UsageException("--src and --dst must both be IPv4 or both be IPv6.");
        ReadOnlyMemory<byte>? payload = ReadPayload();

        TcpSegment segment;
        try
        {
            segment = SegmentNotation.Parse(Segment, src, dst, payload);
        }
        catch (NotationException e)
        {
            throw new UsageException($"--segment: {e.Message}{Environment.NewLine}  {Segment}{Environment.NewLine}  {new string(' ', e.Position)}^");
        }

        byte[] packet = segment.ToArray();
        Console.Out.WriteLine(PacketSummary.Format(packet, Format));
        if (Hex)
            Console.Out.WriteLine(Convert.ToHexStringLower(packet));
        if (Pcap is not null)
            PcapOutput.WriteRawIp(Pcap, [packet]);
        return 0;
    }

    private ReadOnlyMemory<byte>? ReadPayload()
    {
        if (PayloadHex is not null && PayloadFile is not null)
            throw new UsageException("give --payload-hex or --payload-file, not both.");
        if (PayloadHex is not null)
        {
            string hex = PayloadHex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? PayloadHex[2..] : PayloadHex;
            hex = hex.Replace(" ", "", StringComparison.Ordinal).Replace(":", "", StringComparison.Ordinal);
            if (hex.Length % 2 != 0 || !hex.All(char.IsAsciiHexDigit))
                throw new UsageException($"--payload-hex '{PayloadHex}' is not an even number of hex digits.");
            return Convert.FromHexString(hex);
        }
        if (PayloadFile is not null)
        {
            if (!File.Exists(PayloadFile))
                throw new UsageException($"--payload-file '{PayloadFile}' does not exist.");
            var bytes = File.ReadAllBytes(PayloadFile);
            if (bytes.Length > 65495)
                throw new UsageException($"--payload-file '{PayloadFile}' has {bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes; one IP packet carries at most 65495 of TCP payload.");
            return bytes;
        }
        return null;
    }
}
