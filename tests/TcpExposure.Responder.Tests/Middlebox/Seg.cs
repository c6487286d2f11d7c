using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Middlebox;

namespace TcpExposure.Responder.Tests.Middlebox;

/// <summary>Segments between a fixed client and server, and a way to run one behaviour on them.</summary>
internal static class Seg
{
    public static readonly IPAddress Cli = IPAddress.Parse("10.77.0.1"), Srv = IPAddress.Parse("10.77.1.2");

    public static TcpSegment ToServer(TcpFlags flags, uint seq, uint ack = 0, int payload = 0, ushort port = 40000, params TcpOption[] options) => new()
    {
        Ip = new Ipv4Header { Source = Cli, Destination = Srv, Identification = 0x1000 },
        SourcePort = port,
        DestinationPort = 80,
        Flags = flags,
        Sequence = seq,
        Acknowledgment = ack,
        Window = 8064,
        Options = [.. options],
        Payload = Enumerable.Range(0, payload).Select(i => (byte)(i + 1)).ToArray(),
    };

    public static TcpSegment ToClient(TcpFlags flags, uint seq, uint ack = 0, int payload = 0, ushort port = 40000, params TcpOption[] options) =>
        ToServer(flags, seq, ack, payload, port, options) with
        {
            Ip = new Ipv4Header { Source = Srv, Destination = Cli },
            SourcePort = 80,
            DestinationPort = port,
            Window = 32768,
        };

    public static List<RoutedSegment> Run(IMiddleboxBehaviour b, TcpSegment s, MiddleboxDirection d = MiddleboxDirection.ToServer)
    {
        var output = new List<RoutedSegment>();
        b.Process(s, d, output);
        return output;
    }

    /// <summary>The bytes on the wire, which is what a middlebox test must compare.</summary>
    public static byte[] Wire(TcpSegment s) => s.ToArray();

    /// <summary>Parses what the behaviour would put on the wire, checking it is clean (checksums right).</summary>
    public static TcpSegment Reparsed(TcpSegment s)
    {
        var r = SegmentParser.Parse(s.ToArray());
        Assert.That(r.Problems, Is.EqualTo(ParseProblems.None), string.Join("; ", r.Describe()));
        return r.Segment!;
    }
}
