using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Benchmarks;

/// <summary>
/// The reference segment: a 160-byte IPv4 SYN with MSS, SACK-permitted, timestamps and
/// window scale (19 option bytes, padded to 20) and a 100-byte payload, both checksums computed.
/// scripts/bench_scapy.py builds the same bytes.
/// </summary>
public static class SynSegment
{
    public static TcpSegment Create()
    {
        var payload = new byte[100];
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)i;
        return new TcpSegment
        {
            Ip = new Ipv4Header
            {
                Source = IPAddress.Parse("192.0.2.2"),
                Destination = IPAddress.Parse("192.0.2.1"),
                Identification = 0x1234,
                Ttl = 64,
            },
            SourcePort = 55555,
            DestinationPort = 80,
            Sequence = 20000,
            Flags = TcpFlags.Syn,
            Window = 8192,
            Options = [new MssOption(1460), SackPermittedOption.Instance, new TimestampsOption(12345, 0), new WindowScaleOption(7)],
            Payload = payload,
        };
    }
}
