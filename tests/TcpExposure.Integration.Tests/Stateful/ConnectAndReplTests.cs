using System.Net;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Stateful;
using TcpExposure.Tool.Stateful;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Stateful;

/// <summary>
/// Our active open against the kernel (<c>nc -l</c> in srv), and the REPL's <c>sf</c>/<c>rf</c>
/// between two hosts, through a router that may drop packets.
/// </summary>
[TestFixture, NonParallelizable]
public class ConnectAndReplTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        Root.Require();
        _dir = ServeFixture.TempDir();
    }

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static async Task WaitListening(TestNetwork net, string host, int port)
    {
        Assert.That(await Helpers.WaitUntil(() => net.ExecChecked(host, "ss", "-Hltn", $"sport = :{port}").Contains($":{port} "), 15), Is.True, "nc is not listening");
    }

    [TestCase(0.0, 1 << 20, "raw"), TestCase(10.0, 256 << 10, "raw"), TestCase(0.0, 1 << 20, "pcap"), CancelAfter(180_000)]
    public async Task ConnectFetchesFromKernelNc(double loss, int bytes, string via)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = loss, LossToClient = loss });
        string file = ServeFixture.MakeFile(_dir, bytes, http: false);
        net.StartProcess("srv", "sh", "-c", $"nc -N -l 7000 <{file}");
        await WaitListening(net, "srv", 7000);
        await using var host = StackHost.Open(null, net.Client.Namespace, Enum.Parse<StackTransport>(via, true),
            via == "pcap" ? net.Server.Address.ToString() : null);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var socket = await host.ConnectAsync(new IPEndPoint(net.Server.Address, 7000), cts.Token);
        var received = new MemoryStream();
        var buffer = new byte[32 * 1024];
        int n;
        while ((n = await socket.ReadAsync(buffer, cts.Token)) > 0)
            received.Write(buffer, 0, n);
        socket.Close();
        await socket.WaitClosedAsync(cts.Token);
        Assert.That(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(received.ToArray())), Is.EqualTo(ServeFixture.Md5(file)));
    }

    [TestCase(0.0, 1 << 20, "raw"), TestCase(10.0, 256 << 10, "raw"), TestCase(5.0, 256 << 10, "pcap"), CancelAfter(180_000)]
    public async Task ConnectSendsToKernelNc(double loss, int bytes, string via)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = loss, LossToClient = loss });
        string file = ServeFixture.MakeFile(_dir, bytes, http: false);
        string got = Path.Combine(_dir, "got.bin");
        var nc = net.StartProcess("srv", "sh", "-c", $"nc -d -l 7001 >{got}");
        await WaitListening(net, "srv", 7001);
        await using var host = StackHost.Open(null, net.Client.Namespace, Enum.Parse<StackTransport>(via, true),
            via == "pcap" ? net.Server.Address.ToString() : null);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var socket = await host.ConnectAsync(new IPEndPoint(net.Server.Address, 7001), cts.Token);
        await socket.WriteAsync(await File.ReadAllBytesAsync(file), cts.Token);
        socket.Shutdown();
        await socket.FlushAsync(cts.Token);
        await nc.WaitForExitAsync(cts.Token);
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(ServeFixture.Md5(file)));
    }

    [Test, CancelAfter(60_000)]
    public async Task ConnectToAClosedPortIsRefused()
    {
        using var net = TestNetwork.Create();
        await using var host = StackHost.Open(null, net.Client.Namespace, StackTransport.Raw, null);
        Assert.ThrowsAsync<ConnectionRefusedException>(() => host.ConnectAsync(new IPEndPoint(net.Server.Address, 7999)));
    }

    [TestCase(0.0, 1 << 20, "raw"), TestCase(5.0, 256 << 10, "raw"), TestCase(5.0, 256 << 10, "pcap"), CancelAfter(240_000)]
    public void SendFileBetweenTwoRepls(double loss, int bytes, string via)
    {
        using var net = TestNetwork.Create(new TestNetworkOptions { LossToServer = loss, LossToClient = loss });
        string file = ServeFixture.MakeFile(_dir, bytes, http: false);
        string got = Path.Combine(_dir, "got.bin");
        string[] Repl(TestHost peer) => via == "pcap" ? [ServeFixture.ToolDll, "repl", "--via", "pcap", "--peer", peer.Address.ToString()] : [ServeFixture.ToolDll, "repl"];
        var receiver = net.StartProcess("srv", "dotnet", Repl(net.Client));
        var sender = net.StartProcess("cli", "dotnet", Repl(net.Server));
        Helpers.ReadLineContaining(receiver.StandardOutput, "repl on", 60);
        Helpers.ReadLineContaining(sender.StandardOutput, "repl on", 60);
        receiver.StandardInput.WriteLine($"rf {got} 9000");
        receiver.StandardInput.Flush();
        Helpers.ReadLineContaining(receiver.StandardOutput, "waiting on port 9000", 30);
        sender.StandardInput.WriteLine($"sf {file} {net.Server.Address} 9000");
        sender.StandardInput.Flush();
        string sent = Helpers.ReadLineContaining(sender.StandardOutput, "sent", 180);
        string received = Helpers.ReadLineContaining(receiver.StandardOutput, "received", 60);
        Assert.That(sent, Is.EqualTo($"sent {bytes} bytes"));
        Assert.That(received, Is.EqualTo($"received {bytes} bytes"));
        Assert.That(ServeFixture.Md5(got), Is.EqualTo(ServeFixture.Md5(file)));
        sender.StandardInput.WriteLine("q");
        receiver.StandardInput.WriteLine("q");
        sender.StandardInput.Flush();
        receiver.StandardInput.Flush();
        Assert.That(sender.WaitForExit(30_000) && receiver.WaitForExit(30_000), Is.True, "the REPLs did not quit");
    }

    [Test, CancelAfter(120_000)]
    public void ReplTalksToKernelNc()
    {
        using var net = TestNetwork.Create();
        var nc = net.StartProcess("srv", "nc", "-l", "7002");
        WaitListening(net, "srv", 7002).GetAwaiter().GetResult();
        var repl = net.StartProcess("cli", "dotnet", ServeFixture.ToolDll, "repl");
        Helpers.ReadLineContaining(repl.StandardOutput, "repl on", 60);
        repl.StandardInput.WriteLine("s 99 nobody");
        repl.StandardInput.WriteLine("frobnicate");
        repl.StandardInput.Flush();
        Assert.That(Helpers.ReadLine(repl.StandardOutput), Does.StartWith("error: no socket 99"));
        Assert.That(Helpers.ReadLine(repl.StandardOutput), Does.StartWith("unknown command 'frobnicate'"));
        repl.StandardInput.WriteLine($"c {net.Server.Address} 7002");
        repl.StandardInput.Flush();
        string created = Helpers.ReadLineContaining(repl.StandardOutput, "created socket", 30);
        string id = created.Split(' ')[2].TrimEnd(':');
        repl.StandardInput.WriteLine($"s {id} hello kernel");
        repl.StandardInput.Flush();
        Assert.That(Helpers.ReadLineContaining(repl.StandardOutput, "sent", 30), Is.EqualTo("sent 12 bytes"));
        nc.StandardInput.Write("hi from nc\n");
        nc.StandardInput.Flush();
        repl.StandardInput.WriteLine($"r {id} 100");
        repl.StandardInput.Flush();
        Assert.That(Helpers.ReadLineContaining(repl.StandardOutput, "read", 30), Is.EqualTo("read 11 bytes: hi from nc"));
        repl.StandardInput.WriteLine("ls");
        repl.StandardInput.Flush();
        Assert.That(Helpers.ReadLineContaining(repl.StandardOutput, "7002", 30), Does.Contain("ESTABLISHED"));
        repl.StandardInput.WriteLine($"cl {id}");
        repl.StandardInput.Flush();
        Helpers.ReadLineContaining(repl.StandardOutput, "closing socket", 30);
        Assert.That(nc.WaitForExit(30_000), Is.True, "nc did not see our FIN");
        Assert.That(Helpers.ReadLine(nc.StandardOutput, 5), Is.EqualTo("hello kernel"));
        repl.StandardInput.WriteLine("q");
        repl.StandardInput.Flush();
        Assert.That(repl.WaitForExit(30_000), Is.True);
    }
}
