using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Transport;
using TcpExposure.Craft.Wire;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary>
/// A test network whose router runs the middlebox emulator, with a raw transport on cli to send
/// crafted segments and an AF_PACKET capture on srv to see exactly what arrived.
/// </summary>
internal sealed class MiddleboxPath : IAsyncDisposable
{
    private static int _port = 21000 + (Environment.ProcessId % 1000) * 20;

    private MiddleboxPath(TestNetwork network, RawSocketTransport client, RawSocketTransport server)
    {
        Network = network;
        Client = client;
        Server = server;
    }

    public TestNetwork Network { get; }
    public RawSocketTransport Client { get; }
    public RawSocketTransport Server { get; }

    public static MiddleboxPath Create(string behaviour) => Create(new TestNetworkOptions { Middlebox = behaviour });

    public static MiddleboxPath Create(TestNetworkOptions options)
    {
        var net = TestNetwork.Create(options);
        try
        {
            var cli = net.Run("cli", () => new RawSocketTransport(new() { Interface = "eth0" }));
            var srv = net.Run("srv", () => new RawSocketTransport(new() { Interface = "eth0" }));
            return new MiddleboxPath(net, cli, srv);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>A fresh client port, so runs never see each other's segments.</summary>
    public static ushort NextPort() => (ushort)Interlocked.Increment(ref _port);

    /// <summary>A segment from cli:<paramref name="port"/> to srv:80 with the probe's defaults.</summary>
    public TcpSegment Segment(ushort port, TcpFlags flags, uint seq, uint ack = 0, int payload = 0, params TcpOption[] options) =>
        TcpSegment.Create(new IPEndPoint(Network.Client.Address, port), new IPEndPoint(Network.Server.Address, 80), flags) with
        {
            Sequence = seq,
            Acknowledgment = ack,
            Window = 8064,
            Options = [.. options],
            Payload = Enumerable.Range(0, payload).Select(i => (byte)i).ToArray(),
            Ip = new Ipv4Header { Source = Network.Client.Address, Destination = Network.Server.Address, Ttl = 64 },
        };

    /// <summary>
    /// Sends <paramref name="segments"/> from cli (paced by <paramref name="gap"/>) and returns what
    /// srv's interface received from that client port and what came back to cli.
    /// </summary>
    public async Task<(List<TcpSegment> AtServer, List<TcpSegment> AtClient)> ExchangeAsync(ushort port, TimeSpan gap, params TcpSegment[] segments)
    {
        var atServer = new List<TcpSegment>();
        using var stop = new CancellationTokenSource();
        var capture = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    var r = await Server.ReceiveAsync(buffer, stop.Token);
                    if (SegmentParser.Parse(buffer.AsSpan(0, r.Length)).Segment is { } s && s.SourcePort == port)
                        lock (atServer)
                            atServer.Add(s);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await Task.Delay(50);
        var result = await SendReceive.RunAsync(Client, segments.Select((s, i) => OutgoingPacket.From(s, i == 0 ? TimeSpan.Zero : gap)).ToArray(),
            new SendReceiveOptions { Timeout = TimeSpan.FromSeconds(1) });
        await Task.Delay(200);
        stop.Cancel();
        await capture;
        var atClient = result.Answers.Select(a => a.Segment).OfType<TcpSegment>().Where(s => s.DestinationPort == port).ToList();
        lock (atServer)
            return (atServer.ToList(), atClient);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        Network.Dispose();
    }
}
