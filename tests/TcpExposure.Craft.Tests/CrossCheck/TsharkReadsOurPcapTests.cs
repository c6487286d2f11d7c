using System.Globalization;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Tests.Pcap;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>Our writer's files read by tshark: link types, timestamps to the nanosecond, snap-length cuts.</summary>
public class TsharkReadsOurPcapTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void EthernetFileWithExactTimestampsAndACutFrame(bool nanosecond)
    {
        var tshark = ExternalTool.Require("tshark", "tshark");
        using var dir = new TempDir();
        var path = dir.File("eth.pcap");
        var t0 = new DateTimeOffset(2026, 11, 22, 5, 30, 0, TimeSpan.Zero);
        var times = new[] { t0.AddTicks(1), t0.AddTicks(1_234_567), t0.AddSeconds(86_400).AddTicks(9_999_999) };
        var frames = new[] { Samples.Ethernet(Samples.Syn4(1)), Samples.Ethernet(Samples.Data6(77)), Samples.Ethernet(Samples.Data6(500)) };
        using (var w = new PcapWriter(File.Create(path), LinkType.Ethernet, nanosecond, snapLength: 300))
            for (int i = 0; i < frames.Length; i++)
                w.Write(frames[i], times[i]);

        var output = ExternalTool.Run(tshark, ["-n", "-r", path, "-T", "fields", "-E", "separator=/t",
            "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len", "-e", "eth.src", "-e", "eth.dst", "-e", "eth.type",
            "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport"]);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.That(rows, Has.Count.EqualTo(3));
        for (int i = 0; i < 3; i++)
        {
            long ticks = times[i].UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
            long sub = ticks % TimeSpan.TicksPerSecond;
            string fraction = (nanosecond ? sub * 100 : sub / 10 * 1000).ToString("D9"); // tshark prints nanoseconds either way
            Assert.That(rows[i][0], Is.EqualTo($"{ticks / TimeSpan.TicksPerSecond}.{fraction}"), $"frame {i}");
            Assert.That(rows[i][1], Is.EqualTo(frames[i].Length.ToString(CultureInfo.InvariantCulture)));
            Assert.That(rows[i][2], Is.EqualTo(Math.Min(300, frames[i].Length).ToString(CultureInfo.InvariantCulture)));
            Assert.That(rows[i][3], Is.EqualTo("02:00:00:00:00:01"));
            Assert.That(rows[i][4], Is.EqualTo("02:00:00:00:00:02"));
            Assert.That(rows[i][5], Is.EqualTo(i == 0 ? "0x0800" : "0x86dd"));
            Assert.That(rows[i][6] + rows[i][7], Is.EqualTo(i == 0 ? "192.0.2.2" : "2001:db8::2"));
            Assert.That(rows[i][8], Is.EqualTo(i == 0 ? "40001" : "443"));
        }
    }
}
