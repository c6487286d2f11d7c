using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Responder.Middlebox;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Middlebox;

/// <summary>
/// Ground truth for the middlebox emulator: crafted segments from cli through the emulator on rtr,
/// the exact segments seen on srv's wire (and what comes back to cli).
/// </summary>
[NonParallelizable]
public class MiddleboxForwardingTests
{
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(5);
    private MiddleboxPath? _path;

    [SetUp]
    public void SetUp() => Root.Require();

    [TearDown]
    public async Task TearDown()
    {
        if (_path is null)
            return;
        string prefix = _path.Network.Prefix;
        string rtr = _path.Network["rtr"].Namespace;
        await _path.DisposeAsync();
        _path = null;
        Assert.That(Helpers.Namespaces(prefix + "-"), Is.Empty, "namespaces left behind");
    }

    private MiddleboxPath Path(string behaviour) => _path = MiddleboxPath.Create(behaviour);

    private static TcpOption MpCapable => new LegacyMpCapableOption(0x01020304, 0x1122334455667788);

    // Without the padding the encoder adds to reach a multiple of 4 bytes.
    private static byte[] Bytes(IEnumerable<TcpOption> options) =>
        options.Where(o => o is not EndOfOptionListOption).SelectMany(o => o.ToBytes()).ToArray();

    [Test]
    public async Task ACleanPathDeliversTheSegmentUnchangedButForTheTtl()
    {
        var p = Path("none");
        ushort port = MiddleboxPath.NextPort();
        var syn = p.Segment(port, TcpFlags.Syn, 252001, 0, 0, new MssOption(512), MpCapable, new TimestampsOption(13572468, 0));
        var (srv, cli) = await p.ExchangeAsync(port, Gap, syn);
        Assert.That(srv, Has.Count.EqualTo(1));
        var got = srv[0];
        Assert.Multiple(() =>
        {
            Assert.That(got.Sequence.Value, Is.EqualTo(252001u));
            Assert.That(got.Window, Is.EqualTo((ushort)8064));
            Assert.That(got.Ip.Ttl, Is.EqualTo((byte)63), "a router decrements the TTL");
            Assert.That(Bytes(got.Options), Is.EqualTo(Bytes(syn.Options)));
            Assert.That(got.Checksum, Is.Null, "the TCP checksum is right");
        });
        // srv's kernel resets the SYN to a closed port; the RST comes back through the middlebox.
        Assert.That(cli.Any(s => s.Flags.Has(TcpFlags.Rst) && s.Acknowledgment.Value == 252002), Is.True);
        Assert.That(p.Network.Middlebox!.Counters.Received(MiddleboxDirection.ToServer), Is.GreaterThanOrEqualTo(1));
        Assert.That(p.Network.Middlebox!.Counters.Sent(MiddleboxDirection.ToClient), Is.GreaterThanOrEqualTo(1));
        // With no behaviour, both went the fast way: sent on as raw bytes, never parsed.
        Assert.That(p.Network.Middlebox!.Counters.PassedUnparsed, Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public void NonTcpTrafficIsLeftToTheKernel()
    {
        var p = Path("seq-offset:1000");
        var ping = p.Network.Exec("cli", ["ping", "-c", "2", "-i", "0.2", "-W", "2", p.Network.Server.Address.ToString()], TimeSpan.FromSeconds(20));
        Assert.That(ping.Succeeded, Is.True, ping.StandardOutput + ping.StandardError);
        Assert.That(p.Network.Middlebox!.Counters.Received(MiddleboxDirection.ToServer), Is.Zero);
    }

    [TestCase("strip:30:syn", 3)]
    [TestCase("zero:30:syn", 4)]
    [TestCase("modify:30:syn", 5)]
    public async Task AnOptionInASynIsStrippedZeroedOrModified(string behaviour, int expected)
    {
        var p = Path(behaviour);
        ushort port = MiddleboxPath.NextPort();
        var syn = p.Segment(port, TcpFlags.Syn, 252001, 0, 0, new MssOption(512), MpCapable, new WindowScaleOption(2));
        var data = p.Segment(port, TcpFlags.Ack | TcpFlags.Psh, 252002, 1, 10, MpCapable);
        var (srv, _) = await p.ExchangeAsync(port, Gap, syn, data);
        Assert.That(srv, Has.Count.EqualTo(2));
        var got = srv[0].Options.Where(o => o is not NopOption and not EndOfOptionListOption).ToList();
        byte[] original = MpCapable.ToBytes();
        switch (expected)
        {
            case 3:
                Assert.That(got.Select(o => o.Kind), Is.EqualTo(new byte[] { 2, 3 }), "MSS and WSCALE kept, MP_CAPABLE gone");
                break;
            case 4:
                Assert.That(got[1].ToBytes(), Is.EqualTo(new byte[] { 30, 14 }.Concat(new byte[12])));
                break;
            case 5:
                Assert.That(got[1].ToBytes(), Is.EqualTo(original.Select((b, i) => i < 2 ? b : (byte)(b ^ OptionBehaviour.ModifyMask))));
                break;
        }
        Assert.That(srv[0].Checksum, Is.Null, "checksum fixed");
        // Scope syn: the same option in data passes untouched.
        Assert.That(Bytes(srv[1].Options), Is.EqualTo(original));
    }

    [Test]
    public async Task NopStrippingMatchesIptablesTcpoptstripByteForByte()
    {
        var syns = new List<byte[]>();
        foreach (var options in new[] { new TestNetworkOptions { Middlebox = "nop:30" }, new TestNetworkOptions { StripOptions = [30] } })
        {
            var p = _path = MiddleboxPath.Create(options);
            ushort port = MiddleboxPath.NextPort();
            var syn = p.Segment(port, TcpFlags.Syn, 252001, 0, 0, new MssOption(512), MpCapable, new TimestampsOption(13572468, 0), new WindowScaleOption(2));
            var (srv, _) = await p.ExchangeAsync(port, Gap, syn);
            var got = srv.Single();
            Assert.That(got.HasOption(30), Is.False);
            syns.Add(Bytes(got.Options));
            await TearDown();
        }
        Assert.That(syns[0], Is.EqualTo(syns[1]), "the emulator's nop:30 and the kernel's TCPOPTSTRIP leave the same option bytes");
    }

    [Test]
    public async Task SequenceNumbersAreShiftedOneWayAndAcknowledgmentsBackTheOther()
    {
        var p = Path("seq-offset:1000");
        ushort port = MiddleboxPath.NextPort();
        var syn = p.Segment(port, TcpFlags.Syn, 252001);
        var (srv, cli) = await p.ExchangeAsync(port, Gap, syn);
        Assert.That(srv.Single().Sequence.Value, Is.EqualTo(253001u));
        var rst = cli.Single(s => s.Flags.Has(TcpFlags.Rst));
        Assert.That(rst.Acknowledgment.Value, Is.EqualTo(252002u), "srv acked 253002, the client sees its own numbering");
    }

    [Test]
    public async Task Ipv6GoesThroughTheBehavioursToo()
    {
        var p = Path("seq-offset:1000,strip:30:syn");
        ushort port = MiddleboxPath.NextPort();
        var net = p.Network;
        var syn = TcpSegment.Create(new IPEndPoint(net.Client.Address6, port), new IPEndPoint(net.Server.Address6, 80), TcpFlags.Syn) with
        {
            Sequence = 252001,
            Options = [new MssOption(512), MpCapable],
            Ip = new Ipv6Header { Source = net.Client.Address6, Destination = net.Server.Address6, Ttl = 64 },
        };
        var (srv, cli) = await p.ExchangeAsync(port, Gap, syn);
        var got = srv.Single();
        Assert.That(got.Ip, Is.TypeOf<Ipv6Header>());
        Assert.That((got.Sequence.Value, got.Ip.Ttl, got.HasOption(30), got.Checksum), Is.EqualTo((253001u, (byte)63, false, (ushort?)null)));
        Assert.That(cli.Single(s => s.Flags.Has(TcpFlags.Rst)).Acknowledgment.Value, Is.EqualTo(252002u));
    }

    [TestCase("split:256:all", 3, 3)]
    [TestCase("split:256:first", 3, 1)]
    [TestCase("split:256:none", 3, 0)]
    public async Task DataIsSplitWithOptionsOnAllTheFirstOrNone(string behaviour, int pieces, int withOptions)
    {
        var p = Path(behaviour);
        ushort port = MiddleboxPath.NextPort();
        var data = p.Segment(port, TcpFlags.Ack | TcpFlags.Psh, 5000, 77, 600, new TimestampsOption(1, 2));
        var (srv, _) = await p.ExchangeAsync(port, Gap, data);
        Assert.That(srv.Select(s => s.Sequence.Value), Is.EqualTo(new uint[] { 5000, 5256, 5512 }));
        Assert.That(srv.Select(s => s.Payload.Length), Is.EqualTo(new[] { 256, 256, 88 }));
        Assert.That(srv.SelectMany(s => s.Payload.ToArray()), Is.EqualTo(data.Payload.ToArray()));
        Assert.That(srv.Count(s => s.HasOption(TcpOptionKind.Timestamps)), Is.EqualTo(withOptions));
        Assert.That(srv.Select(s => s.Flags.Has(TcpFlags.Psh)), Is.EqualTo(new[] { false, false, true }));
        Assert.That(srv, Has.Count.EqualTo(pieces));
        Assert.That(srv.All(s => s.Checksum is null), Is.True);
    }

    [Test]
    public async Task BackToBackSegmentsAreCoalesced()
    {
        var p = Path("coalesce");
        ushort port = MiddleboxPath.NextPort();
        var a = p.Segment(port, TcpFlags.Ack, 9000, 1, 100);
        var b = p.Segment(port, TcpFlags.Ack, 9100, 1, 100);
        var c = p.Segment(port, TcpFlags.Ack | TcpFlags.Psh, 9200, 1, 100);
        var (srv, _) = await p.ExchangeAsync(port, TimeSpan.FromMilliseconds(1), a, b, c);
        Assert.That(srv, Has.Count.EqualTo(1));
        Assert.That(srv[0].Sequence.Value, Is.EqualTo(9000u));
        Assert.That(srv[0].Payload.ToArray(), Is.EqualTo(a.Payload.ToArray().Concat(b.Payload.ToArray()).Concat(c.Payload.ToArray())));
        Assert.That(srv[0].Flags, Is.EqualTo(TcpFlags.Ack | TcpFlags.Psh));
    }

    [Test]
    public async Task DataIsAcknowledgedOnTheServersBehalf()
    {
        var p = Path("proxy-ack");
        ushort port = MiddleboxPath.NextPort();
        var data = p.Segment(port, TcpFlags.Ack | TcpFlags.Psh, 7000, 4242, 300);
        var (srv, cli) = await p.ExchangeAsync(port, Gap, data);
        // srv also sees cli's kernel reset the connection it knows nothing of, after the proxy ACK.
        Assert.That(srv.Where(s => !s.Flags.Has(TcpFlags.Rst)).Single().Payload.Length, Is.EqualTo(300));
        var first = cli.First();
        Assert.That(first.Flags, Is.EqualTo(TcpFlags.Ack), "a pure ACK from the middlebox comes first");
        Assert.That(first.Payload.Length, Is.Zero);
        Assert.That(first.Sequence.Value, Is.EqualTo(4242u));
        Assert.That(first.Acknowledgment.Value, Is.EqualTo(7300u));
        Assert.That(first.Ip.Source, Is.EqualTo(p.Network.Server.Address));
        Assert.That(cli.Skip(1).Any(s => s.Flags.Has(TcpFlags.Rst)), Is.True, "then srv's own answer (a RST: nothing listens)");
    }

    [Test]
    public async Task TheWindowIsRewrittenTowardTheServer()
    {
        var p = Path("window:4096");
        ushort port = MiddleboxPath.NextPort();
        var (srv, _) = await p.ExchangeAsync(port, Gap, p.Segment(port, TcpFlags.Syn, 1));
        Assert.That(srv.Single().Window, Is.EqualTo((ushort)4096));
    }

    [Test]
    public async Task ASegmentBeyondAHoleIsDropped()
    {
        var p = Path("drop-beyond-hole");
        ushort port = MiddleboxPath.NextPort();
        var syn = p.Segment(port, TcpFlags.Syn, 100);
        var first = p.Segment(port, TcpFlags.Ack, 101, 1, 50);
        var beyond = p.Segment(port, TcpFlags.Ack, 201, 1, 50); // 151..200 never sent
        var inOrder = p.Segment(port, TcpFlags.Ack, 151, 1, 50);
        var (srv, _) = await p.ExchangeAsync(port, Gap, syn, first, beyond, inOrder);
        Assert.That(srv.Select(s => s.Sequence.Value), Is.EqualTo(new uint[] { 100, 101, 151 }));
    }

    [Test]
    public async Task KernelTcpWorksThroughSequenceRewritingAndSplitting()
    {
        var p = Path("seq-offset:123456789,split:100:first,strip:8");
        var net = p.Network;
        using var listener = net.Run("srv", () =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Any, 8080));
            l.Listen();
            return l;
        });
        using var client = net.Run("cli", () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var message = Enumerable.Range(0, 20000).Select(i => (byte)(i * 7)).ToArray();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var accept = listener.AcceptAsync(timeout.Token).AsTask();
        await client.ConnectAsync(new IPEndPoint(net.Server.Address, 8080), timeout.Token);
        using var server = await accept;
        await client.SendAsync(message, SocketFlags.None, timeout.Token);
        client.Shutdown(SocketShutdown.Send);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await server.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            received.Write(buffer, 0, n);
        Assert.That(received.ToArray(), Is.EqualTo(message));
        // And back: the reply's ACKs were shifted back for the client to accept it.
        await server.SendAsync(message.AsMemory(0, 5000), SocketFlags.None, timeout.Token);
        server.Shutdown(SocketShutdown.Send);
        var back = new MemoryStream();
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            back.Write(buffer, 0, n);
        Assert.That(back.ToArray(), Is.EqualTo(message[..5000]));
        var split = (SplitBehaviour)net.Middlebox!.Pipeline.Behaviours[1];
        Assert.That(split.Split, Is.GreaterThan(10), "the kernel's segments were really split");
    }
}
