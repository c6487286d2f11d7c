#:project ../src/TcpExposure.Craft/TcpExposure.Craft.csproj
#:property PublishAot=false
// A SYN carrying an option kind no stack knows (kind 99, 4 bytes of data) to a listener: a
// conforming TCP skips it and answers with a SYN-ACK.
// Run: dotnet run examples/syn_unknown_option.cs -- ADDRESS:PORT [NETNS]
//   e.g. tcpexposure testbed up; tcpexposure testbed exec srv -- nc -l 8080 &
//        dotnet run examples/syn_unknown_option.cs -- 10.77.1.2:8080 txbed-cli
using System.Net;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;

if (args.Length < 1 || !IPEndPoint.TryParse(args[0], out var dst) || dst.Port == 0)
{
    Console.Error.WriteLine("usage: dotnet run examples/syn_unknown_option.cs -- ADDRESS:PORT [NETNS]");
    return 2;
}
string? netns = args.Length > 1 ? args[1] : null;
var src = new IPEndPoint(Routes.SourceAddressFor(dst.Address, netns), Random.Shared.Next(40000, 60000));

await using var transport = new RawSocketTransport(new() { Namespace = netns });
var syn = TcpSegment.Create(src, dst, TcpFlags.Syn) with
{
    Sequence = (uint)Random.Shared.Next(),
    Window = 8192,
    Options = [new MssOption(1460), new RawOption(99, new byte[] { 0xca, 0xfe, 0xba, 0xbe }), NopOption.Instance, NopOption.Instance],
};
Console.WriteLine("sent " + TcpdumpSummary.Format(syn));
var result = await SendReceive.RunAsync(transport, [syn], new() { Timeout = TimeSpan.FromSeconds(2), Until = StopCondition.Any });
foreach (var a in result.Answers)
    Console.WriteLine("recv " + (a.Icmp?.Describe() ?? TcpdumpSummary.Format(a.Packet.Span)));
bool synAck = result.Answers.Any(a => a.Flags.Has(TcpFlags.Syn | TcpFlags.Ack));
Console.WriteLine(synAck ? "the unknown option kind was skipped: SYN-ACK" : "no SYN-ACK: the option (or the port) was refused");
return synAck ? 0 : 1;
