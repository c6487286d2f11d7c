using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary>Kernel TCP bulk transfer through the emulator and through the kernel's own forwarding, same run.</summary>
[Explicit("a measurement: run with --filter Category=Performance")]
[Category("Performance")]
public class MiddleboxThroughputTests
{
    [SetUp]
    public void SetUp() => Root.Require();

    private static async Task<double> MegabytesPerSecond(TestNetworkOptions options, int megabytes)
    {
        using var net = TestNetwork.Create(options);
        using var listener = net.Run("srv", () =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Any, 8080));
            l.Listen();
            return l;
        });
        using var client = net.Run("cli", () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(new IPEndPoint(net.Server.Address, 8080));
        using var server = await accept;
        var chunk = new byte[65536];
        long total = (long)megabytes << 20, received = 0;
        var clock = Stopwatch.StartNew();
        var reader = Task.Run(async () =>
        {
            var b = new byte[65536];
            int n;
            while ((n = await server.ReceiveAsync(b, SocketFlags.None)) > 0)
                received += n;
        });
        for (long sent = 0; sent < total; sent += chunk.Length)
            await client.SendAsync(chunk, SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        await reader;
        Assert.That(received, Is.EqualTo(total));
        return total / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    [Test]
    public async Task BulkTransfer()
    {
        double kernel = await MegabytesPerSecond(new TestNetworkOptions(), 50);
        double emulator = await MegabytesPerSecond(new TestNetworkOptions { Middlebox = "none" }, 50);
        double seq = await MegabytesPerSecond(new TestNetworkOptions { Middlebox = "seq-offset:1000" }, 50);
        TestContext.Out.WriteLine($"kernel forwarding {kernel:0.0} MB/s; emulator (none) {emulator:0.0} MB/s; emulator (seq-offset) {seq:0.0} MB/s");
        Assert.That(emulator, Is.GreaterThan(1), "the emulator forwards at a usable rate");
    }
}
