using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>
/// The guard where it is used: on srv, for a port srv's kernel has no socket on. cli's kernel
/// connects there; srv's kernel answers the SYN with an RST unless the guard drops it.
/// </summary>
public class RstGuardOnTestNetworkTests
{
    private TestNetwork? _net;

    [SetUp]
    public void SetUp()
    {
        Root.Require();
        _net = TestNetwork.Create();
    }

    [TearDown]
    public void TearDown() => _net?.Dispose();

    private SocketError ConnectFromCli(IPAddress to, int port, double seconds = 1.5)
    {
        using var s = _net!.Run("cli", () => new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            s.ConnectAsync(new IPEndPoint(to, port), timeout.Token).AsTask().GetAwaiter().GetResult();
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }

    /// <summary>RSTs srv's eth0 sent, counted by a rule we add on srv's OUTPUT after the guard (or alone).</summary>
    private long RstsLeavingSrv(bool v6)
    {
        string fw = v6 ? "ip6tables" : "iptables";
        string listing = _net!.ExecChecked("srv", fw, "-L", "OUTPUT", "-v", "-x", "-n");
        var line = listing.Split('\n').FirstOrDefault(l => l.Contains("/* rst-counter */"));
        return line is null ? 0 : long.Parse(line.Trim().Split(' ', 2)[0], CultureInfo.InvariantCulture);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void NoKernelRstEscapesWhileTheGuardIsOnAndOneDoesWithoutIt(bool v6)
    {
        var srv = v6 ? _net!.Server.Address6 : _net!.Server.Address;
        string fw = v6 ? "ip6tables" : "iptables";
        const int port = 6000;
        // A counting rule at the end of OUTPUT sees every RST the guard (inserted at the top) lets out.
        _net.ExecChecked("srv", fw, "-A", "OUTPUT", "-p", "tcp", "--tcp-flags", "RST", "RST", "-m", "comment", "--comment", "rst-counter");

        Assert.That(ConnectFromCli(srv, port), Is.EqualTo(SocketError.ConnectionRefused));
        long before = RstsLeavingSrv(v6);
        Assert.That(before, Is.EqualTo(1), "without the guard srv's kernel sent one RST");

        using (var guard = RstGuard.Create(srv, port, _net.Server.Namespace))
        {
            Assert.That(ConnectFromCli(srv, port), Is.EqualTo(SocketError.TimedOut), "the guard dropped srv's RST, so cli never heard back");
            Assert.That(guard.DroppedPackets, Is.GreaterThanOrEqualTo(1));
            Assert.That(RstsLeavingSrv(v6), Is.EqualTo(before), "no RST got past the guard");
            // Only that port: another closed port still answers with an RST.
            Assert.That(ConnectFromCli(srv, port + 1), Is.EqualTo(SocketError.ConnectionRefused));
        }
        Assert.That(RstGuard.ListTagged(_net.Server.Namespace, v6), Is.Empty);
        Assert.That(ConnectFromCli(srv, port), Is.EqualTo(SocketError.ConnectionRefused), "with the guard gone RSTs escape again");
    }

    [Test]
    public void RstsOnAnExemptSocketPassTheGuard()
    {
        var srv = _net!.Server.Address;
        using var guard = RstGuard.Create(srv, 6100, _net.Server.Namespace);
        // A raw socket on srv with the exempt mark sends an RST from the guarded port; tshark on cli must see it.
        using var raw = _net.Run("srv", () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp));
        RstGuard.Exempt(raw);
        using var plain = _net.Run("srv", () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp));
        byte[] rst = new byte[20];
        rst[0] = 6100 >> 8; rst[1] = 6100 & 0xff; rst[2] = 0x30; rst[3] = 0x39; // sport 6100, dport 12345
        rst[12] = 5 << 4; rst[13] = 0x04; // header length 5 words, RST
        var cli = _net.Client.Address;
        ushort sum = Craft.Wire.Checksum.Finish(Craft.Wire.Checksum.Sum(rst, Craft.Wire.Checksum.PseudoHeaderSum(srv, cli, 6, rst.Length)));
        rst[16] = (byte)(sum >> 8); rst[17] = (byte)sum;
        long dropped = guard.DroppedPackets;
        // Netfilter's verdict on a locally sent packet reaches the sender: DROP in OUTPUT is EPERM.
        var refused = Assert.Throws<SocketException>(() => plain.SendTo(rst, new IPEndPoint(cli, 0)));
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.AccessDenied));
        Assert.That(guard.DroppedPackets, Is.EqualTo(dropped + 1), "an unmarked RST from the port is dropped");
        Assert.That(raw.SendTo(rst, new IPEndPoint(cli, 0)), Is.EqualTo(rst.Length));
        Assert.That(guard.DroppedPackets, Is.EqualTo(dropped + 1), "the marked one passes");
    }
}
