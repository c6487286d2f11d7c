namespace TcpExposure.Tool.Tests;

public class CraftCommandTests
{
    private const string ExampleSegment = "S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop> ttl 255 id 0x1234";
    private static readonly string[] Example = ["craft", "--src", "192.0.2.2:55555", "--dst", "192.0.2.1:80", "--segment", ExampleSegment];

    [TestCase("tcpdump", "IP 192.0.2.2.55555 > 192.0.2.1.80: Flags [S], seq 20000, win 8192, options [mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop], length 0")]
    [TestCase("drill", "S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>")]
    [TestCase("legacy", "192.0.2.2.55555 > 192.0.2.1.80: Flags [0x2], seq 20000, ack 0, win 8192, options [MSS, 512, SACKOK, TIMESTAMP, 12345, 0, WSCALE, 3, NOP, ], length 0, pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x4e09")]
    public void TheLegacyExampleInEachLineFormat(string format, string line)
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run([.. Example, "--format", format]);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Is.EqualTo(line + Environment.NewLine));
    }

    [Test]
    public void DefaultFormatIsTcpdumpAndHexIsTheLegacyPacket()
    {
        var (exit, stdout, _) = ConsoleCapture.Run([.. Example, "--hex"]);
        var lines = stdout.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(lines[0], Does.StartWith("IP 192.0.2.2.55555 > 192.0.2.1.80: Flags [S]"));
        // The legacy example SYN: ID 0x1234, TTL 255, IP checksum filled, TCP checksum 0x4e09.
        Assert.That(lines[1], Is.EqualTo("4500003c12340000ff062584c0000202c0000201d903005000004e2000000000a00220004e090000020402000402080a000030390000000003030301"));
    }

    [Test]
    public void JsonIsOneObjectWithTheFields()
    {
        var (exit, stdout, _) = ConsoleCapture.Run([.. Example, "--format", "json"]);
        Assert.That(exit, Is.EqualTo(0));
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.That(doc.RootElement.GetProperty("tcp").GetProperty("checksum").GetString(), Is.EqualTo("0x4e09"));
        Assert.That(doc.RootElement.GetProperty("options").GetArrayLength(), Is.EqualTo(5));
    }

    [Test]
    public void BadNotationExitsTwoAndNamesTheToken()
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run("craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:80", "--segment", "S 0:0(0) <mss 512,wscale banana>");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Does.Contain("'banana'").And.Contain("position 25"));
    }

    [TestCase("--format", "xml")]
    [TestCase("--src", "192.0.2.2")]
    [TestCase("--dst", "nowhere:80")]
    [TestCase("--payload-hex", "abc")]
    [TestCase("--dst", "[2001:db8::1]:80")]
    public void BadOptionsExitTwo(string option, string value)
    {
        var args = new List<string> { "craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:80", "--segment", "P. 1:4(3)" };
        int i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value; else args.AddRange([option, value]);
        var (exit, stdout, _) = ConsoleCapture.Run([.. args]);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void ABadFormatValueSaysWhichOption()
    {
        var (exit, _, stderr) = ConsoleCapture.Run([.. Example, "--format", "xml"]);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("Option 'format'"));
    }

    [Test]
    public void MissingSegmentExitsTwo()
        => Assert.That(ConsoleCapture.Run("craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:80").Exit, Is.EqualTo(2));

    [Test]
    public void Ipv6AndAPayloadFromHexOrFile()
    {
        var (exit, stdout, _) = ConsoleCapture.Run("craft", "--src", "[2001:db8::2]:5", "--dst", "[2001:db8::1]:80", "--segment", "P. 1:4(3) ack 1 win 9", "--payload-hex", "414243", "--hex");
        Assert.That(exit, Is.EqualTo(0));
        var lines = stdout.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("IP6 2001:db8::2.5 > 2001:db8::1.80: Flags [P.], seq 1:4, ack 1, win 9, length 3"));
        Assert.That(lines[1], Does.StartWith("6").And.EndWith("414243"));

        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, "hello"u8.ToArray());
            var r = ConsoleCapture.Run("craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:80", "--segment", "P. 1:6(5) ack 1", "--payload-file", file, "--hex");
            Assert.That(r.Exit, Is.EqualTo(0));
            Assert.That(r.Out, Does.Contain("seq 1:6").And.Contain(Convert.ToHexStringLower("hello"u8)));
            var wrong = ConsoleCapture.Run("craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:80", "--segment", "P. 1:5(4)", "--payload-file", file);
            Assert.That(wrong.Exit, Is.EqualTo(2));
            Assert.That(wrong.Err, Does.Contain("'1:5(4)'"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
