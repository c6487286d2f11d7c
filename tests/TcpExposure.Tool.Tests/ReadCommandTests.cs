using System.Diagnostics;
using TcpExposure.Craft.Pcap;

namespace TcpExposure.Tool.Tests;

public class ReadCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "tcpexposure-read-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly string[][] Segments =
    [
        ["192.0.2.2:55555", "192.0.2.1:80", "S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>"],
        ["192.0.2.1:80", "192.0.2.2:55555", "S. 7:7(0) ack 20001 win 65535 <mss 1460,nop,wscale 7,sackOK,nop,nop,TS val 1 ecr 12345>"],
        ["192.0.2.2:55555", "192.0.2.1:80", "P. 20001:20513(512) ack 8 win 8192 <mp_data dsn 1 len 512 ssn 1,nop,nop>"],
        ["[2001:db8::2]:5", "[2001:db8::1]:80", "S 0:0(0) win 100 <mp_capable v1 flags 0x81,kind 200 len 9 data cafe>"],
        ["192.0.2.2:55555", "192.0.2.1:80", "R. 1:1(0) ack 1 win 0 csum 0x1234"],
    ];

    [TestCase("drill")]
    [TestCase("tcpdump")]
    [TestCase("legacy")]
    [TestCase("json")]
    public void CraftToPcapThenReadGivesTheSameSummaries(string format)
    {
        var expected = new List<string>();
        for (int i = 0; i < Segments.Length; i++)
        {
            string pcap = Path.Combine(_dir, $"{i}.pcap");
            var (exit, stdout, stderr) = ConsoleCapture.Run("craft", "--src", Segments[i][0], "--dst", Segments[i][1], "--segment", Segments[i][2], "--pcap", pcap, "--format", format);
            Assert.That(exit, Is.EqualTo(0), stderr);
            var r = ConsoleCapture.Run("read", pcap, "--format", format);
            Assert.That(r.Exit, Is.EqualTo(0), r.Err);
            string line = r.Out.TrimEnd('\r', '\n');
            if (format == "tcpdump")
            {
                Assert.That(line, Does.Match(@"^\d\d:\d\d:\d\d\.\d{6} "));
                line = line[16..];
            }
            if (format == "json")
            {
                using var doc = System.Text.Json.JsonDocument.Parse(line);
                Assert.That(doc.RootElement.GetProperty("linkType").GetString(), Is.EqualTo("Raw"));
                line = "{" + line[(line.IndexOf("\"length\"", StringComparison.Ordinal))..];
            }
            Assert.That(line, Is.EqualTo(stdout.TrimEnd('\r', '\n')));
            expected.Add(line);
        }
        if (format == "drill")
            Assert.That(expected[0], Is.EqualTo("S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>"));
    }

    [Test]
    public void UnreadablePacketsPrintALineAndTheRunGoesOn()
    {
        string pcap = Path.Combine(_dir, "mixed.pcap");
        byte[] syn = Convert.FromHexString("4500003c12340000ff062584c0000202c0000201d903005000004e2000000000a00220004e090000020402000402080a000030390000000003030301");
        using (var w = new PcapWriter(File.Create(pcap), LinkType.Ethernet))
        {
            var t = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
            // An ARP frame, a TCP SYN, a frame cut inside its IP header, and the SYN again.
            w.Write(Convert.FromHexString("ffffffffffff0200000000010806" + "0001080006040001020000000001c0000202000000000000c0000201"), t);
            w.Write([.. Convert.FromHexString("0200000000020200000000010800"), .. syn], t);
            w.Write(Convert.FromHexString("02000000000202000000000108004500"), t);
            w.Write([.. Convert.FromHexString("0200000000020200000000010800"), .. syn], t);
        }
        var (exit, stdout, stderr) = ConsoleCapture.Run("read", pcap, "--format", "drill");
        var lines = stdout.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(lines, Has.Length.EqualTo(4));
        Assert.That(lines[0], Does.StartWith("#"));
        Assert.That(lines[1], Is.EqualTo("S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>"));
        Assert.That(lines[2], Does.StartWith("#"));
        Assert.That(lines[3], Is.EqualTo(lines[1]));
    }

    [Test]
    public void GarbageFileFailsWithOneSentence()
    {
        string path = Path.Combine(_dir, "garbage.pcap");
        File.WriteAllBytes(path, "this is not a capture file at all"u8.ToArray());
        var (exit, _, stderr) = ConsoleCapture.Run("read", path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.StartWith("tcpexposure: "));
    }

    [Test]
    public void ATruncatedTailPrintsThePacketsBeforeItThenFails()
    {
        string pcap = Path.Combine(_dir, "cut.pcap");
        var crafted = ConsoleCapture.Run("craft", "--src", "192.0.2.2:1", "--dst", "192.0.2.1:2", "--segment", "S 0:0(0) win 1", "--pcap", pcap, "--format", "drill");
        Assert.That(crafted.Exit, Is.EqualTo(0), crafted.Err);
        using (var f = new FileStream(pcap, FileMode.Append))
            f.Write([1, 2, 3]);
        var (exit, stdout, stderr) = ConsoleCapture.Run("read", pcap, "--format", "drill");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Is.EqualTo(crafted.Out));
        Assert.That(stderr, Does.Contain("truncated").And.Contain("after 1 packet"));
    }

    [Test]
    public void MissingFileOrBadFormatExitsTwo()
    {
        Assert.That(ConsoleCapture.Run("read", Path.Combine(_dir, "none.pcap")).Exit, Is.EqualTo(2));
        Assert.That(ConsoleCapture.Run("read", "x.pcap", "--format", "yaml").Exit, Is.EqualTo(2));
        Assert.That(ConsoleCapture.Run("read").Exit, Is.EqualTo(2));
    }

    [Test]
    public void APcapngConvertedByEditcapReadsTheSame()
    {
        if (!File.Exists("/usr/bin/editcap"))
            Assert.Ignore("editcap (wireshark-common, installed with tshark) is not installed.");
        string pcap = Path.Combine(_dir, "in.pcap"), pcapng = Path.Combine(_dir, "out.pcapng");
        var crafted = ConsoleCapture.Run("craft", "--src", "[2001:db8::2]:5", "--dst", "[2001:db8::1]:80", "--pcap", pcap, "--format", "drill",
            "--segment", "P. 1:4(3) ack 1 win 9 <nop,nop,TS val 1 ecr 2>", "--payload-hex", "616263");
        Assert.That(crafted.Exit, Is.EqualTo(0), crafted.Err);
        using (var p = Process.Start(new ProcessStartInfo("/usr/bin/editcap", ["-F", "pcapng", pcap, pcapng]) { RedirectStandardError = true })!)
        {
            p.WaitForExit(60_000);
            Assert.That(p.ExitCode, Is.EqualTo(0), p.StandardError.ReadToEnd());
        }
        var r = ConsoleCapture.Run("read", pcapng, "--format", "drill");
        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Is.EqualTo(crafted.Out));
    }

    [Test]
    public void TsharkReadsTheCraftedPcapWithGoodChecksums()
    {
        if (!File.Exists("/usr/bin/tshark"))
            Assert.Ignore("tshark is not installed (scripts/setup.sh installs it).");
        string pcap = Path.Combine(_dir, "syn.pcap");
        var (exit, _, stderr) = ConsoleCapture.Run("craft", "--src", "192.0.2.2:55555", "--dst", "192.0.2.1:80", "--pcap", pcap,
            "--segment", "S 20000:20000(0) win 8192 <mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop> ttl 255 id 0x1234");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var psi = new ProcessStartInfo("/usr/bin/tshark", ["-n", "-r", pcap, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
            "-T", "fields", "-e", "tcp.checksum", "-e", "tcp.checksum.status", "-e", "ip.checksum.status", "-e", "tcp.options.mss_val", "-e", "tcp.options.wscale.shift", "-e", "tcp.options.timestamp.tsval"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit(60_000);
        Assert.That(output.Trim(), Is.EqualTo("0x4e09\t1\t1\t512\t3\t12345"));
    }
}
