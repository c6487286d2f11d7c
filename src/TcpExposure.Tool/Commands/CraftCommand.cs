using System.Globalization;
using CommandLine;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Tool.Commands;

/// <summary>Builds one segment from a packetdrill-style line and prints, dumps or saves it.</summary>
[Verb("craft", HelpText = "Build one TCP segment from a packetdrill-style line, e.g. --segment \"S 0:0(0) win 8192 <mss 512,sackOK>\", and print it.")]
public sealed class CraftCommand : ICommand
{
    /// <summary>--src: the segment's source ADDRESS:PORT ([ADDRESS]:PORT for IPv6); required.</summary>
    [Option("src", Required = true, HelpText = "Source ADDRESS:PORT ([ADDRESS]:PORT for IPv6).")]
    public string Source { get; set; } = "";

    /// <summary>--dst: the segment's destination ADDRESS:PORT, of the same address family as --src; required.</summary>
    [Option("dst", Required = true, HelpText = "Destination ADDRESS:PORT ([ADDRESS]:PORT for IPv6).")]
    public string Destination { get; set; } = "";

    /// <summary>--segment: the segment in packetdrill-style notation (flags, sequence range, ack, window, &lt;options&gt;, IP fields, forced checksums); required.</summary>
    [Option("segment", Required = true, HelpText = "The segment: FLAGS [start:end(len)] [ack N] [win N] [urg N] [<options>] [ttl N] [tos N] [id N] [df] [res N] [doff N] [csum 0xN] [ipcsum 0xN].")]
    public string Segment { get; set; } = "";

    /// <summary>--format: how the segment is printed: legacy, tcpdump (the default), drill or json.</summary>
    [Option("format", Default = SummaryFormat.Tcpdump, HelpText = "Summary style: legacy, tcpdump, drill or json.")]
    public SummaryFormat Format { get; set; } = SummaryFormat.Tcpdump;

    /// <summary>--hex: also print the whole IP packet as lowercase hex, on the line after the summary.</summary>
    [Option("hex", HelpText = "Also print the packet's bytes in hex (on the line after the summary).")]
    public bool Hex { get; set; }

    /// <summary>--pcap: a pcap file (link type raw IP) to write the packet to; none by default.</summary>
    [Option("pcap", HelpText = "Write the packet to this pcap file (link type raw IP).")]
    public string? Pcap { get; set; }

    /// <summary>--payload-hex: the TCP payload as hex digits (a 0x prefix, spaces and colons are allowed); excludes --payload-file.</summary>
    [Option("payload-hex", HelpText = "The payload as hex digits.")]
    public string? PayloadHex { get; set; }

    /// <summary>--payload-file: a file whose bytes become the TCP payload (at most 65495); excludes --payload-hex.</summary>
    [Option("payload-file", HelpText = "Read the payload from this file.")]
    public string? PayloadFile { get; set; }

    /// <inheritdoc/>
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
