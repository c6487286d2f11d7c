using System.Buffers.Binary;
using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Responder.Tests.Stateless;

public sealed class StatelessResponderTests
{
    internal static readonly IPEndPoint Client = new(IPAddress.Parse("10.1.0.2"), 40000);
    internal static readonly IPEndPoint Server = new(IPAddress.Parse("10.2.0.2"), 8080);
    internal static readonly ResponderConfig Config = ResponderConfig.For(8080, Server.Address);

    internal static TcpSegment Seg(TcpFlags flags, uint seq, uint ack, byte[]? payload = null, params TcpOption[] options)
        => TcpSegment.Create(Client, Server, flags) with
        {
            Sequence = seq, Acknowledgment = ack, Window = 8064, Options = [.. options], Payload = payload ?? [],
        };

    internal static (ResponderResult Result, byte[] Out) Run(TcpSegment s, ResponderConfig? c = null) => Run(s.ToArray(), c);

    internal static (ResponderResult Result, byte[] Out) Run(byte[] packet, ResponderConfig? c = null)
    {
        var output = new byte[4096];
        var r = StatelessResponder.Respond(packet, output, c ?? Config);
        return (r, output[..r.TotalLength]);
    }

    private static TcpSegment Parse(ReadOnlySpan<byte> bytes)
    {
        var p = SegmentParser.Parse(bytes);
        Assert.That(p.Segment, Is.Not.Null);
        return p.Segment!;
    }

    private static void AssertChecksumsValid(ReadOnlySpan<byte> packet)
    {
        Assert.That(PacketView.TryParse(packet, out var v), Is.EqualTo(PacketStatus.Tcp));
        Assert.That(v.TcpChecksumValid, Is.True, "TCP checksum");
        if (!v.IsIpv6) Assert.That(v.Ipv4.ChecksumValid, Is.True, "IP checksum");
        Assert.That(v.LengthMismatch, Is.False);
    }

    [Test]
    public void SynGetsTheLegacySynAckByteForByte()
    {
        var (r, o) = Run(Seg(TcpFlags.Syn, 252001, 0, null, new MssOption(512)));
        Assert.That(r.Verdict, Is.EqualTo(ResponderVerdict.Answered));
        Assert.That(r.Count, Is.EqualTo(1));
        // IP: 45 00 len=52 id=4321 00 00 ttl=ff proto=06 csum src=10.2.0.2 dst=10.1.0.2
        // TCP: 1f90 9c40 seq=00abcdef ack=0003d862 off=8 flags=12 win=8000 csum urg=0
        //      MSS 512 | NOP WS 6 | NOP NOP SACKOK
        // Both checksums as scapy computes them (IP 0x649c, TCP 0x7bde), not as our code does.
        var expected = Convert.FromHexString(
            "4500003443210000ff06" + "649c" + "0a020002" + "0a010002" +
            "1f909c40" + "00abcdef" + "0003d862" + "8012" + "8000" + "7bde" + "0000" +
            "02040200" + "01030306" + "01010402");
        Assert.That(Convert.ToHexString(o), Is.EqualTo(Convert.ToHexString(expected)));
    }

    [Test]
    public void SynWithTimestampAndLegacyMpCapableFillsFortyBytes()
    {
        var (_, o) = Run(Seg(TcpFlags.Syn, 7, 0, null, new MssOption(512), new TimestampsOption(13572468, 0),
            new LegacyMpCapableOption(0x11111111, 0x2222222222222222)));
        AssertChecksumsValid(o);
        var s = Parse(o);
        Assert.That(s.TcpHeaderLength, Is.EqualTo(60));
        var opt = o.AsSpan(40, 40).ToArray();
        Assert.That(Convert.ToHexString(opt), Is.EqualTo(
            "02040200" + "0101080A" + "00BC614E" + "00CF1974" + "01030306" + "01010402" + "0101" + "1E0E" + "0D0C0B0A" + "0102030405060000"));
        Assert.That(s.Acknowledgment.Value, Is.EqualTo(8u));
    }

    [Test]
    public void SynAckUsesEveryOverriddenConstant()
    {
        var c = new ResponderConfig
        {
            Port = 8080, Isn = 1, Window = 1000, Mss = 1400, WindowScale = 9, SackPermitted = false, IpId = 7, Ttl = 33,
            TsVal = 99,
        };
        var (_, o) = Run(Seg(TcpFlags.Syn, 100, 0, null, new TimestampsOption(5, 0)), c);
        var s = Parse(o);
        var ip = (Ipv4Header)s.Ip;
        Assert.Multiple(() =>
        {
            Assert.That(s.Sequence.Value, Is.EqualTo(1u));
            Assert.That(s.Window, Is.EqualTo(1000));
            Assert.That(ip.Identification, Is.EqualTo(7));
            Assert.That(ip.Ttl, Is.EqualTo(33));
            Assert.That(s.Options.OfType<MssOption>().Single().Value, Is.EqualTo(1400));
            Assert.That(s.Options.OfType<WindowScaleOption>().Single().Shift, Is.EqualTo(9));
            Assert.That(s.Options.OfType<SackPermittedOption>(), Is.Empty);
            var ts = s.Options.OfType<TimestampsOption>().Single();
            Assert.That((ts.Value, ts.Echo), Is.EqualTo((99u, 5u)));
        });
    }

    [Test]
    public void DataIsAcknowledgedFromTheReceivedAckWithTimestampEcho()
    {
        var payload = new byte[100];
        payload[0] = 0x42;
        var (r, o) = Run(Seg(TcpFlags.Ack | TcpFlags.Psh, 1000, 5000, payload, new TimestampsOption(777, 12345678)));
        Assert.That(r.Count, Is.EqualTo(1));
        AssertChecksumsValid(o);
        var s = Parse(o);
        Assert.Multiple(() =>
        {
            Assert.That(s.Flags, Is.EqualTo(TcpFlags.Ack));
            Assert.That(s.Sequence.Value, Is.EqualTo(5000u));
            Assert.That(s.Acknowledgment.Value, Is.EqualTo(1100u));
            Assert.That(s.Payload.Length, Is.Zero);
            Assert.That(Convert.ToHexString(o.AsSpan(40, 12)), Is.EqualTo("0101080A00BC614E00000309"));
            Assert.That(s.SourcePort, Is.EqualTo(8080));
            Assert.That(s.DestinationPort, Is.EqualTo(40000));
        });
    }

    [Test]
    public void FinGetsAnAckThenAFinAck()
    {
        var (r, o) = Run(Seg(TcpFlags.Fin | TcpFlags.Ack, 1000, 5000, [1, 2], new TimestampsOption(9, 0)));
        Assert.That(r.Count, Is.EqualTo(2));
        var a = Parse(o.AsSpan(0, r.FirstLength));
        var f = Parse(o.AsSpan(r.FirstLength, r.SecondLength));
        AssertChecksumsValid(o.AsSpan(r.FirstLength));
        Assert.Multiple(() =>
        {
            Assert.That(a.Flags, Is.EqualTo(TcpFlags.Ack));
            Assert.That(a.Acknowledgment.Value, Is.EqualTo(1003u));
            Assert.That(f.Flags, Is.EqualTo(TcpFlags.Fin | TcpFlags.Ack));
            Assert.That(f.Sequence.Value, Is.EqualTo(5000u));
            Assert.That(f.Acknowledgment.Value, Is.EqualTo(1003u));
            Assert.That(f.Options.OfType<TimestampsOption>().Single().Echo, Is.EqualTo(9u));
        });
    }

    [TestCase(TcpFlags.Rst, ResponderVerdict.Reset)]
    [TestCase(TcpFlags.Rst | TcpFlags.Ack, ResponderVerdict.Reset)]
    [TestCase(TcpFlags.Ack, ResponderVerdict.PureAck)]
    [TestCase(TcpFlags.Syn | TcpFlags.Ack, ResponderVerdict.SynAck)]
    public void IgnoresWhatItMustNotAnswer(TcpFlags flags, ResponderVerdict verdict)
    {
        var (r, o) = Run(Seg(flags, 1, 2));
        Assert.That(r.Verdict, Is.EqualTo(verdict));
        Assert.That(o, Is.Empty);
    }

    [Test]
    public void IgnoresTtlOneOtherPortsOtherAddressesAndBadChecksums()
    {
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0) with { Ip = new Ipv4Header { Source = Client.Address, Destination = Server.Address, Ttl = 1 } }).Result.Verdict,
            Is.EqualTo(ResponderVerdict.TtlOne));
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0) with { DestinationPort = 8081 }).Result.Verdict, Is.EqualTo(ResponderVerdict.OtherPort));
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0) with { Ip = new Ipv4Header { Source = Client.Address, Destination = IPAddress.Parse("10.2.0.3") } }).Result.Verdict,
            Is.EqualTo(ResponderVerdict.OtherAddress));
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0).WithWrongChecksum()).Result.Verdict, Is.EqualTo(ResponderVerdict.BadChecksum));
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0).WithWrongChecksum(), new ResponderConfig { Port = 8080, VerifyChecksum = false }).Result.Verdict,
            Is.EqualTo(ResponderVerdict.Answered));
        Assert.That(Run(Seg(TcpFlags.Syn, 1, 0), new ResponderConfig { Port = 8080, Address = IPAddress.Parse("fd00::1") }).Result.Verdict,
            Is.EqualTo(ResponderVerdict.OtherAddress));
    }

    [Test]
    public void DuplicateAckCommandDoesNotAcknowledge()
    {
        var (_, o) = Run(Seg(TcpFlags.Ack, 1000, 5000, [0xb2, 0, 0, 0, 5]));
        var s = Parse(o);
        Assert.That(s.Acknowledgment.Value, Is.EqualTo(1000u));
        Assert.That(s.Payload.Length, Is.Zero);
    }

    [Test]
    public void ShortPayloadCarriesNoCommand()
    {
        var (r, o) = Run(Seg(TcpFlags.Ack, 1000, 5000, [0xb2, 0, 0]));
        Assert.That(r.Command, Is.Zero);
        Assert.That(Parse(o).Acknowledgment.Value, Is.EqualTo(1003u));
    }

    [Test]
    public void EchoCarriesReceivedHeadersOwnHeadersDataAndPadding()
    {
        var payload = new byte[] { 0xa1, 1, 2, 3, 4, 5, 6 };
        var sent = Seg(TcpFlags.Ack | TcpFlags.Psh, 1000, 5000, payload, new TimestampsOption(10, 20)).ToArray();
        var (r, o) = Run(sent);
        Assert.That(r.Command, Is.EqualTo(0xa1));
        AssertChecksumsValid(o);
        var s = Parse(o);
        Assert.That(s.Flags, Is.EqualTo(TcpFlags.Ack | TcpFlags.Psh));
        Assert.That(s.Acknowledgment.Value, Is.EqualTo(1007u));
        var body = s.Payload.ToArray();
        int rcvHdr = sent.Length - payload.Length; // 20 + 32
        int ownHdr = 20 + 32;
        Assert.That(body.Length, Is.EqualTo((rcvHdr + ownHdr + payload.Length + 3) / 4 * 4));
        Assert.That(body[..rcvHdr], Is.EqualTo(sent[..rcvHdr]));
        var own = o[..ownHdr].ToArray();
        own[20 + 16] = 0; own[20 + 17] = 0;
        Assert.That(body[rcvHdr..(rcvHdr + ownHdr)], Is.EqualTo(own));
        Assert.That(body[(rcvHdr + ownHdr)..(rcvHdr + ownHdr + payload.Length)], Is.EqualTo(payload));
        Assert.That(body[(rcvHdr + ownHdr + payload.Length)..], Is.All.EqualTo(0xAB));
        Assert.That(body[(rcvHdr + ownHdr + payload.Length)..], Has.Length.EqualTo(1));
    }

    [Test]
    public void EchoIsCutToTheMaximumPacketLength()
    {
        var payload = new byte[1400];
        payload[0] = 0xa1;
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, payload));
        Assert.That(o.Length, Is.EqualTo(1500));
        AssertChecksumsValid(o);
        Assert.That(Parse(o).Acknowledgment.Value, Is.EqualTo(1401u));
    }

    [Test]
    public void OldTimestampCommandEchoesTsvalMinusOne()
    {
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, [0xa2, 0, 0, 0], new TimestampsOption(500, 0)));
        var s = Parse(o);
        Assert.That(s.Options.OfType<TimestampsOption>().Single().Echo, Is.EqualTo(499u));
        Assert.That(s.Payload.Length, Is.GreaterThan(0));
    }

    [Test]
    public void HttpEchoWrapsTheEchoInAResponse()
    {
        var sent = Seg(TcpFlags.Ack, 1, 2, [0xa3, 9, 9, 9]).ToArray();
        var (_, o) = Run(sent);
        AssertChecksumsValid(o);
        var body = Parse(o).Payload.ToArray();
        string text = System.Text.Encoding.ASCII.GetString(body);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        int echoLen = (40 + 40 + 4 + 3) / 4 * 4;
        Assert.That(text[..end], Is.EqualTo($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {echoLen}\r\n\r\n"));
        Assert.That(body.Length - end, Is.EqualTo(echoLen));
        Assert.That(body[end..(end + 40)], Is.EqualTo(sent[..40]));
    }

    [Test]
    public void SynDataCommandsAcknowledgeTheData()
    {
        var plain = Parse(Run(Seg(TcpFlags.Syn, 100, 0, [0x11, 0, 0, 0, 0])).Out);
        var c1 = Parse(Run(Seg(TcpFlags.Syn, 100, 0, [0xc1, 0, 0, 0, 0])).Out);
        var c2 = Parse(Run(Seg(TcpFlags.Syn, 100, 0, [0xc2, 0, 0, 0, 0])).Out);
        Assert.Multiple(() =>
        {
            Assert.That(plain.Acknowledgment.Value, Is.EqualTo(101u));
            Assert.That(plain.Payload.Length, Is.Zero);
            Assert.That(c1.Acknowledgment.Value, Is.EqualTo(106u));
            Assert.That(c1.Payload.Length, Is.Zero);
            Assert.That(c2.Acknowledgment.Value, Is.EqualTo(106u));
            Assert.That(c2.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Psh));
            Assert.That(c2.Payload.Length, Is.EqualTo((40 + 52 + 5 + 3) / 4 * 4));
        });
    }

    [Test]
    public void LegacyMpDataGetsMpAck()
    {
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, new byte[512], new LegacyMpDataOption(1000, 512, 1)));
        Assert.That(Convert.ToHexString(o.AsSpan(40, 8)), Is.EqualTo("01012006000005E8"));
    }

    [Test]
    public void LegacyMpCapableOnDataGetsTheFixedEcho()
    {
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, [1], new LegacyMpCapableOption(5, 6)));
        var s = Parse(o);
        Assert.That(Convert.ToHexString(o.AsSpan(40, 16)), Is.EqualTo("01011E0E0D0C0B0A0102030405060000"));
        Assert.That(s.TcpHeaderLength, Is.EqualTo(36));
    }

    [Test]
    public void RfcMpCapableSynGetsKeyedSynAck()
    {
        var (_, o) = Run(Seg(TcpFlags.Syn, 1, 0, null, new MpCapableOption(1, 0x81)));
        // MSS 4 + WS 4 + SACK 4, then MP_CAPABLE v1 flags 01 key.
        Assert.That(Convert.ToHexString(o.AsSpan(52, 12)), Is.EqualTo("1E0C0101" + "0A0B0C0D0E0F1011"));
    }

    [Test]
    public void RfcMpCapableOnAckIsEchoedVerbatim()
    {
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, [1, 2], new MpCapableOption(1, 0x01, 0x1111111111111111, 0x2222222222222222)));
        Assert.That(Convert.ToHexString(o.AsSpan(40, 20)), Is.EqualTo("1E1401011111111111111111" + "2222222222222222"));
    }

    [Test]
    public void DssMappingGetsDataAck()
    {
        var dss = new DssOption { Dsn = 0x10000, SubflowSeq = 1, DataLevelLength = 100 };
        var (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, new byte[100], dss));
        Assert.That(Convert.ToHexString(o.AsSpan(40, 8)), Is.EqualTo("1E08200100010064"));
        var dss64 = new DssOption { Dsn = 0x1_0000_0000, Dsn64 = true, DataFin = true, SubflowSeq = 1, DataLevelLength = 100 };
        (_, o) = Run(Seg(TcpFlags.Ack, 1, 2, new byte[100], dss64));
        Assert.That(Convert.ToHexString(o.AsSpan(40, 12)), Is.EqualTo("1E0C2003" + "0000000100000065"));
    }

    [Test]
    public void AnswersIpv6()
    {
        var c = new IPEndPoint(IPAddress.Parse("fd00::2"), 1234);
        var sv = new IPEndPoint(IPAddress.Parse("fd00::1"), 8080);
        var syn = TcpSegment.Create(c, sv, TcpFlags.Syn) with { Sequence = 41 };
        var (r, o) = Run(syn.ToArray(), ResponderConfig.For(8080, sv.Address));
        Assert.That(r.Verdict, Is.EqualTo(ResponderVerdict.Answered));
        AssertChecksumsValid(o);
        var s = Parse(o);
        Assert.That(s.Ip.Source, Is.EqualTo(sv.Address));
        Assert.That(s.Ip.Destination, Is.EqualTo(c.Address));
        Assert.That(s.Ip.Ttl, Is.EqualTo(255));
        Assert.That(s.Acknowledgment.Value, Is.EqualTo(42u));
    }

    [Test]
    public void OutputTooSmallIsReportedNotThrown()
    {
        var output = new byte[30];
        var r = StatelessResponder.Respond(Seg(TcpFlags.Syn, 1, 0).ToArray(), output, Config);
        Assert.That(r.Verdict, Is.EqualTo(ResponderVerdict.OutputTooSmall));
    }
}
