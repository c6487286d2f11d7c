#:project ../src/TcpExposure.Craft/TcpExposure.Craft.csproj
#:property PublishAot=false
// A full handshake, then three data segments of which the middle one carries a wrong TCP checksum.
// The peer must drop it: its ACK stops at the end of the first segment, and the third arrives out
// of order (a duplicate ACK, with a SACK block when SACK was negotiated).
// Our kernel knows nothing of this connection, so an RST guard keeps it from resetting it.
// Run: dotnet run examples/handshake_bad_checksum.cs -- ADDRESS:PORT [NETNS]
using System.Net;
using System.Text;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

if (args.Length < 1 || !IPEndPoint.TryParse(args[0], out var dst) || dst.Port == 0)
{
    Console.Error.WriteLine("usage: dotnet run examples/handshake_bad_checksum.cs -- ADDRESS:PORT [NETNS]");
    return 2;
}
string? netns = args.Length > 1 ? args[1] : null;
var src = new IPEndPoint(Routes.SourceAddressFor(dst.Address, netns), Random.Shared.Next(40000, 60000));
using var guard = RstGuard.Create(src.Address, src.Port, netns);
await using var transport = new RawSocketTransport(new() { Namespace = netns, FirewallMark = RstGuard.ExemptMark });
void Show(SendReceiveResult r)
{
    foreach (var s in r.Sent) Console.WriteLine("sent " + TcpdumpSummary.Format(s.Bytes.Span));
    foreach (var a in r.Answers) Console.WriteLine("recv " + TcpdumpSummary.Format(a.Packet.Span));
}

var syn = TcpSegment.Create(src, dst, TcpFlags.Syn) with
{
    Sequence = 1000,
    Window = 65535,
    Options = [new MssOption(1460), SackPermittedOption.Instance],
};
var hs = await SendReceive.RunAsync(transport, [syn], new() { Timeout = TimeSpan.FromSeconds(2), Until = StopCondition.SynAck });
Show(hs);
var synAck = hs.Answers.FirstOrDefault(a => a.Flags.Has(TcpFlags.Syn | TcpFlags.Ack))?.Segment;
if (synAck is null)
{
    Console.WriteLine("no SYN-ACK");
    return 1;
}

var ack = syn with { Flags = TcpFlags.Ack, Sequence = syn.Sequence + 1, Acknowledgment = synAck.Sequence + 1, Options = [] };
byte[] Part(string s) => Encoding.ASCII.GetBytes(s);
var one = ack with { Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = Part("first  segment\n") };
var two = one with { Sequence = one.Sequence + one.Payload.Length, Payload = Part("second segment\n") };
var three = two with { Sequence = two.Sequence + two.Payload.Length, Payload = Part("third  segment\n") };
var gap = TimeSpan.FromMilliseconds(20);
var data = await SendReceive.RunAsync(transport,
    [OutgoingPacket.From(ack), OutgoingPacket.From(one, gap), OutgoingPacket.From(two.WithWrongChecksum(), gap), OutgoingPacket.From(three, gap)],
    new() { Timeout = TimeSpan.FromMilliseconds(500) });
Show(data);

SeqNumber afterOne = one.Sequence + one.Payload.Length;
var acks = data.Answers.Where(a => a.Segment is { } s && s.Flags.Has(TcpFlags.Ack)).Select(a => a.Segment!).ToList();
bool stoppedAtOne = acks.Count > 0 && acks.All(s => s.Acknowledgment == afterOne);
Console.WriteLine(stoppedAtOne
    ? $"the peer dropped the bad segment: every ACK stays at {afterOne.Value} (the end of the first segment)"
    : "unexpected: the peer acknowledged past the bad segment");

// Close: an RST from our side (the guard lets our own, marked packets through).
var rst = ack with { Flags = TcpFlags.Rst, Sequence = three.Sequence + three.Payload.Length, Acknowledgment = 0 };
await transport.SendAsync(rst.ToArray());
return stoppedAtOne ? 0 : 1;
