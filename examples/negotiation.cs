#:project ../src/TcpExposure.Craft/TcpExposure.Craft.csproj
#:property PublishAot=false
// SACK-permitted and window-scale negotiation: offer both (plus timestamps) in a SYN and read what
// the peer's SYN-ACK grants (RFC 2018, RFC 7323).
// Run: dotnet run examples/negotiation.cs -- ADDRESS:PORT [NETNS] [WSCALE]
using System.Net;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

if (args.Length < 1 || !IPEndPoint.TryParse(args[0], out var dst) || dst.Port == 0)
{
    Console.Error.WriteLine("usage: dotnet run examples/negotiation.cs -- ADDRESS:PORT [NETNS] [WSCALE]");
    return 2;
}
string? netns = args.Length > 1 && args[1].Length > 0 ? args[1] : null;
byte ourShift = args.Length > 2 ? byte.Parse(args[2]) : (byte)7;
var src = new IPEndPoint(Routes.SourceAddressFor(dst.Address, netns), Random.Shared.Next(40000, 60000));

await using var transport = new RawSocketTransport(new() { Namespace = netns });
var syn = TcpSegment.Create(src, dst, TcpFlags.Syn) with
{
    Sequence = (uint)Random.Shared.Next(),
    Window = 65535,
    Options = [new MssOption(1460), SackPermittedOption.Instance, new TimestampsOption(1, 0), NopOption.Instance, new WindowScaleOption(ourShift)],
};
Console.WriteLine("sent " + TcpdumpSummary.Format(syn));
var result = await SendReceive.RunAsync(transport, [syn], new() { Timeout = TimeSpan.FromSeconds(2), Until = StopCondition.SynAck });
var synAck = result.Answers.FirstOrDefault(a => a.Flags.Has(TcpFlags.Syn | TcpFlags.Ack))?.Segment;
if (synAck is null)
{
    Console.WriteLine("no SYN-ACK within 2 s");
    return 1;
}
Console.WriteLine("recv " + TcpdumpSummary.Format(synAck));
var ws = synAck.Options.OfType<WindowScaleOption>().FirstOrDefault();
bool sack = synAck.Options.OfType<SackPermittedOption>().Any();
var ts = synAck.Options.OfType<TimestampsOption>().FirstOrDefault();
var mss = synAck.Options.OfType<MssOption>().FirstOrDefault();
Console.WriteLine($"SACK:          {(sack ? "permitted both ways" : "not granted")}");
Console.WriteLine(ws is null
    ? "window scale:  not granted (both sides use unscaled windows)"
    : $"window scale:  peer shift {ws.Shift} (its windows x{1 << ws.Shift}), ours {ourShift}; peer window now {synAck.Window} -> {(long)synAck.Window << ws.Shift} bytes once scaled");
Console.WriteLine($"timestamps:    {(ts is null ? "not granted" : $"TSval {ts.Value}, TSecr {ts.Echo} (our 1 echoed: {ts.Echo == 1})")}");
Console.WriteLine($"MSS:           {(mss is null ? "none (536 assumed)" : mss.Value.ToString())}");
return 0;
