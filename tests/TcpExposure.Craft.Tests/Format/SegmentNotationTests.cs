using System.Net;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Format;

public class SegmentNotationTests
{
    internal static readonly IPEndPoint Client = IPEndPoint.Parse("192.0.2.2:55555");
    internal static readonly IPEndPoint Server = IPEndPoint.Parse("192.0.2.1:80");
    internal static readonly IPEndPoint Client6 = IPEndPoint.Parse("[2001:db8::2]:55555");
    internal static readonly IPEndPoint Server6 = IPEndPoint.Parse("[2001:db8::1]:80");

    internal const string ExampleLine = "S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>";

    internal static byte[] LegacyExampleSyn() => LegacyCraft.MakeSegment(
        LegacyCraft.ParseAddress("192.0.2.1"), LegacyCraft.ParseAddress("192.0.2.2"), 80, 55555, 8192, 20000, 0, 0x02,
        [new("MSS", 512L), new("SACKOK", ""), new("TIMESTAMP", 12345L, 0L), new("WSCALE", 3L), new("NOP", "")], default, ipChecksum: true);

    [Test]
    public void TheLegacyExampleSynIsByteIdenticalWhenWrittenInTheNotation()
    {
        var seg = SegmentNotation.Parse(ExampleLine + " ttl 255 id 0x1234", Client, Server);
        Assert.That(Convert.ToHexString(seg.ToArray()), Is.EqualTo(Convert.ToHexString(LegacyExampleSyn())));
        Assert.That(seg.ComputeChecksum(), Is.EqualTo(0x4e09));
    }

    [Test]
    public void FieldsLandWhereTheLineSaysAndThePayloadIsZeros()
    {
        var seg = SegmentNotation.Parse("P. 1:513(512) ack 7 win 100 urg 3 ttl 9 tos 0x10 id 77 df res 5", Client, Server);
        var ip = (Ipv4Header)seg.Ip;
        Assert.Multiple(() =>
        {
            Assert.That(seg.Flags, Is.EqualTo(TcpFlags.Psh | TcpFlags.Ack));
            Assert.That(seg.Sequence.Value, Is.EqualTo(1u));
            Assert.That(seg.Acknowledgment.Value, Is.EqualTo(7u));
            Assert.That(seg.Window, Is.EqualTo(100));
            Assert.That(seg.UrgentPointer, Is.EqualTo(3));
            Assert.That(seg.Payload.Length, Is.EqualTo(512));
            Assert.That(seg.Payload.ToArray().All(b => b == 0), Is.True);
            Assert.That((ip.Ttl, ip.Tos, ip.Identification, ip.DontFragment), Is.EqualTo(((byte)9, (byte)0x10, (ushort)77, true)));
            Assert.That(seg.Reserved, Is.EqualTo(5));
            Assert.That(TcpSegment.Parse(seg.ToArray()).IsClean, Is.True);
        });
    }

    [TestCase("S", TcpFlags.Syn)]
    [TestCase("S.", TcpFlags.Syn | TcpFlags.Ack)]
    [TestCase(".", TcpFlags.Ack)]
    [TestCase("F.", TcpFlags.Fin | TcpFlags.Ack)]
    [TestCase("R", TcpFlags.Rst)]
    [TestCase("R.", TcpFlags.Rst | TcpFlags.Ack)]
    [TestCase("SEWN", TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr | TcpFlags.Ae)]
    [TestCase("FSRP.UEWN", (TcpFlags)0x1FF)]
    [TestCase("-", TcpFlags.None)]
    public void FlagLetters(string letters, TcpFlags flags)
        => Assert.That(SegmentNotation.Parse(letters + " 0:0(0)", Client, Server).Flags, Is.EqualTo(flags));

    [Test]
    public void AGivenPayloadIsUsedAndMustMatchTheLength()
    {
        var payload = new byte[] { 1, 2, 3 };
        Assert.That(SegmentNotation.Parse("P. 10:13(3)", Client, Server, payload).Payload.ToArray(), Is.EqualTo(payload));
        Assert.That(SegmentNotation.Parse("P.", Client, Server, payload).Payload.ToArray(), Is.EqualTo(payload));
        var e = Assert.Throws<NotationException>(() => SegmentNotation.Parse("P. 10:14(4)", Client, Server, payload))!;
        Assert.That(e.Token, Is.EqualTo("10:14(4)"));
    }

    [Test]
    public void WrongChecksumsAndALyingDataOffsetAreWrittenAsAsked()
    {
        var seg = SegmentNotation.Parse("S 1:1(0) <mss 1460> doff 3 csum 0xbeef ipcsum 0x1", Client, Server);
        var bytes = seg.ToArray();
        PacketView.TryParse(bytes, out var v);
        (int doff, int csum, int ipcsum) = (v.Tcp.DataOffset, v.Tcp.Checksum, v.Ipv4.HeaderChecksum);
        Assert.Multiple(() =>
        {
            Assert.That(doff, Is.EqualTo(3));
            Assert.That(csum, Is.EqualTo(0xbeef));
            Assert.That(ipcsum, Is.EqualTo(1));
            var problems = TcpSegment.Parse(bytes).Problems;
            Assert.That(problems.HasFlag(ParseProblems.BadTcpChecksum) && problems.HasFlag(ParseProblems.BadIpChecksum) && problems.HasFlag(ParseProblems.BadDataOffset));
        });
    }

    [Test]
    public void Ipv6EndpointsGiveAnIpv6Packet()
    {
        var seg = SegmentNotation.Parse("S. 0:0(0) ack 1 win 1000 ttl 7 tos 0x20 <mss 1440>", Server6, Client6);
        var bytes = seg.ToArray();
        Assert.That(bytes[0] >> 4, Is.EqualTo(6));
        Assert.That(bytes[7], Is.EqualTo(7));
        Assert.That(TcpSegment.Parse(bytes).IsClean, Is.True);
    }

    [TestCase("X 0:0(0)", "X", 0, "not a flag")]
    [TestCase("S 0:0(0) wind 5", "wind", 9, "unknown word")]
    [TestCase("S 0:0(0) win", "win", 9, "needs a value")]
    [TestCase("S 0:0(0) win 70000", "70000", 13, "0 to 65535")]
    [TestCase("S 0:10(5)", "0:10(5)", 2, "end - start is 10")]
    [TestCase("S 0:0(0) <mss 512,bogus 3>", "bogus", 18, "unknown option")]
    [TestCase("S 0:0(0) <mss 512", "<mss 512", 9, "no closing")]
    [TestCase("SS 0:0(0)", "SS", 0, "twice")]
    [TestCase("", "", 0, "expected the flags")]
    [TestCase("S 0:0(0) ack 1 ack 2", "ack", 15, "twice")]
    public void BadLinesNameTheTokenAndPosition(string line, string token, int position, string reason)
    {
        Assert.That(SegmentNotation.TryParse(line, Client, Server, out var seg, out var e), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(seg, Is.Null);
            Assert.That(e!.Token, Is.EqualTo(token));
            Assert.That(e.Position, Is.EqualTo(position));
            Assert.That(e.Message, Does.Contain(reason));
        });
    }

    [Test]
    public void Ipv4OnlyFieldsAreRefusedOnIpv6()
    {
        var e = Assert.Throws<NotationException>(() => SegmentNotation.Parse("S 0:0(0) id 5", Client6, Server6))!;
        Assert.That(e.Token, Is.EqualTo("id"));
    }

    [Test]
    public void TooManyOptionBytesNeedADataOffset()
    {
        string many = "<" + string.Join(",", Enumerable.Repeat("TS val 1 ecr 2", 5)) + ">";
        var e = Assert.Throws<NotationException>(() => SegmentNotation.Parse("S 0:0(0) " + many, Client, Server))!;
        Assert.That(e.Message, Does.Contain("at most 40"));
        var seg = SegmentNotation.Parse("S 0:0(0) doff 15 " + many, Client, Server);
        Assert.That(seg.OptionsLength, Is.EqualTo(50));
    }

    public static IEnumerable<string> Lines()
    {
        yield return ExampleLine;
        yield return "S. 0:0(0) ack 20001 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7>";
        yield return "P. 1:101(100) ack 1 win 502 <nop,nop,TS val 1 ecr 2>";
        yield return ". 1:1(0) ack 1 win 100 <sack 5:10 20:30,nop,nop>";
        yield return "F. 5:5(0) ack 9 win 1";
        yield return "R 7:7(0) win 0";
        yield return "- 1:1(0) win 0";
        yield return "SEWN 0:0(0) win 10 <kind 200 len 9 data cafe>";
        yield return "S 0:0(0) win 10 <mp_capable v1 flags 0x81>";
        yield return ". 1:1(0) ack 1 win 10 <dss ack 0x5 dsn 0x10 ssn 1 dlen 2 csum 0x3 fin>";
        yield return "S 0:0(0) win 10 <mss 1460,eol>";
        yield return "S 0:0(0) win 10 <FO,nop,nop>";
        yield return "PU. 1:2(1) ack 1 win 10 urg 1 ttl 3 tos 0x4 id 9 df res 2 csum 0x1 ipcsum 0x2";
        yield return "S 0:0(0) win 10 <mss 512> doff 4";
    }

    [TestCaseSource(nameof(Lines))]
    public void FullFormatReadsBackToTheSameBytes(string line)
    {
        var seg = SegmentNotation.Parse(line, Client, Server);
        string text = SegmentNotation.Format(seg);
        // The payload as the wire has it (a lying data offset moves bytes between options and payload).
        var wirePayload = TcpSegment.Parse(seg.ToArray()).Segment!.Payload;
        var again = SegmentNotation.Parse(text, Client, Server, wirePayload);
        Assert.That(Convert.ToHexString(again.ToArray()), Is.EqualTo(Convert.ToHexString(seg.ToArray())), text);
    }

    [Test]
    public void SeededRandomLinesEitherParseOrFailWithANotationError()
    {
        string[] words =
        [
            "S", "S.", ".", "P.", "F", "R", "X", "-", "0:0(0)", "1:5(4)", "5:1(4)", "1:2(", "1:", ":", "ack", "win", "urg", "ttl", "tos", "id",
            "df", "doff", "csum", "ipcsum", "res", "0", "1", "15", "16", "255", "256", "65535", "65536", "0x", "0xffffffff", "0x1ffffffffffffffff",
            "<", ">", "<>", "<mss 1>", "<mss>", "<,>", "<nop,,nop>", "<kind 200 len 300>", "<kind 1 data 0>", "<sack 1:2 3>", "<remove_addr 1,2,x>",
            "<mp_capable v16>", "<mp_capable v>", "<dss ssn 1>", "<add_addr id 1 addr ::1 port 1>", "<exp 253 exid 0x10000>", "<TS val 1 ecr>",
            "<eol trailer 0>", "<FO 01>", "<md5 zz>", "<mp_tcprst flags 16>", "<" + string.Concat(Enumerable.Repeat("nop,", 60)) + "nop>",
        ];
        var rng = new Random(99);
        int parsed = 0;
        for (int i = 0; i < 20000; i++)
        {
            var line = string.Join(rng.Next(4) == 0 ? "  " : " ", Enumerable.Range(0, rng.Next(1, 8)).Select(_ => words[rng.Next(words.Length)]));
            try
            {
                bool v6 = rng.Next(2) == 0;
                var seg = SegmentNotation.Parse(line, v6 ? Client6 : Client, v6 ? Server6 : Server);
                Assert.That(seg.TryEncode(new byte[seg.GetEncodedLength()], out _), Is.True, line);
                parsed++;
            }
            catch (NotationException e)
            {
                Assert.That(e.Position, Is.InRange(0, line.Length), line);
                Assert.That(e.Token.Length == 0 || line.AsSpan(e.Position).StartsWith(e.Token), Is.True, $"{line} -> {e.Message}");
            }
        }
        Assert.That(parsed, Is.GreaterThan(100));
    }
}
