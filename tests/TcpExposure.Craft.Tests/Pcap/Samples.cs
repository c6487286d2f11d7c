using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Pcap;

/// <summary>A few real IP packets to put into capture files.</summary>
internal static class Samples
{
    public static byte[] Syn4(int i = 0) => (TcpSegment.Create(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 40000 + i),
        new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80), TcpFlags.Syn) with
    {
        Sequence = new SeqNumber((uint)(1000 + i)),
        Window = 8192,
        Options = [new MssOption(1460), SackPermittedOption.Instance, new TimestampsOption(12345, 0), new WindowScaleOption(7)],
    }).ToArray();

    public static byte[] Data6(int payload) => (TcpSegment.Create(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 443),
        new IPEndPoint(IPAddress.Parse("2001:db8::1"), 51000), TcpFlags.Ack | TcpFlags.Psh) with
    {
        Sequence = new SeqNumber(7),
        Acknowledgment = new SeqNumber(99),
        Window = 512,
        Payload = Enumerable.Range(0, payload).Select(b => (byte)b).ToArray(),
    }).ToArray();

    public static readonly byte[] MacA = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
    public static readonly byte[] MacB = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

    public static byte[] Ethernet(byte[] ip)
    {
        var frame = new byte[EthernetFrame.GetLength(ip.Length)];
        EthernetFrame.Write(frame, MacB, MacA, EtherType.ForIpPacket(ip), ip);
        return frame;
    }
}
