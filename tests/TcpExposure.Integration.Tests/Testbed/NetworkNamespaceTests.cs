using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

public class NetworkNamespaceTests
{
    private string _ns = "";

    [SetUp]
    public void SetUp()
    {
        Root.Require();
        _ns = $"txnst{Environment.ProcessId}x{Guid.NewGuid():N}"[..24];
        Run("ip", "netns", "add", _ns);
        Run("ip", "netns", "exec", _ns, "ip", "link", "set", "lo", "up");
    }

    [TearDown]
    public void TearDown()
    {
        if (_ns.Length > 0 && NetworkNamespace.Exists(_ns))
            Run("ip", "netns", "del", _ns);
    }

    [Test]
    public void ListenerCreatedInsideIsVisibleOnlyInsideTheNamespace()
    {
        var listener = NetworkNamespace.Run(_ns, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            s.Listen();
            return s;
        });
        using (listener)
        {
            int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            string inside = Run("ip", "netns", "exec", _ns, "ss", "-Htln", $"sport = :{port}");
            string outside = Run("ss", "-Htln", $"sport = :{port}");
            Assert.That(inside, Does.Contain($"127.0.0.1:{port}"));
            Assert.That(outside, Does.Not.Contain($"127.0.0.1:{port}"));

            // The socket keeps its namespace on whatever thread uses it: a client made in the
            // namespace connects, one made outside (this thread) cannot reach it.
            using var client = NetworkNamespace.Run(_ns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            client.Connect(IPAddress.Loopback, port);
            using var accepted = listener.Accept();
            client.Send([1, 2, 3]);
            var buf = new byte[3];
            Assert.That(accepted.Receive(buf), Is.EqualTo(3));
        }
    }

    [Test]
    public async Task RunAsyncReturnsResultAndThrowsForMissingNamespace()
    {
        string inode = await NetworkNamespace.RunAsync(_ns, () => File.ReadAllText("/proc/thread-self/net/dev"));
        // Only lo exists in a fresh namespace; the host has others.
        Assert.That(inode, Does.Contain("lo:"));
        Assert.That(inode.Split('\n').Count(l => l.Contains(':')), Is.EqualTo(1));
        Assert.ThrowsAsync<IOException>(() => NetworkNamespace.RunAsync("txnst-missing-ns", () => 1));
        Assert.Throws<ArgumentException>(() => NetworkNamespace.Run("a/b", () => 1));
        Assert.That(NetworkNamespace.Run(null, () => 7), Is.EqualTo(7));
    }

    private static string Run(params string[] argv)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', argv)} failed ({p.ExitCode}): {stderr}");
        return stdout;
    }
}
