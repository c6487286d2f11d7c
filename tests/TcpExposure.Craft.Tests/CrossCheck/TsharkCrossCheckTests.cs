using TcpExposure.Craft.Options;
using TcpExposure.Craft.Pcap;
using TcpExposure.Craft.Tests.Pcap;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>
/// The corpus, written by our pcap writer, read back by tshark (Wireshark's dissectors) with
/// checksum validation on: every checksum good (or bad where we broke it) and every field tshark
/// reports equal to what the segment was built from. One tshark process for the whole corpus.
/// </summary>
public class TsharkCrossCheckTests
{
    private static List<string[]>? _rows;
    private static IReadOnlyList<CorpusEntry>? _corpus;

    [OneTimeSetUp]
    public void RunTshark()
    {
        var tshark = ExternalTool.Require("tshark", "tshark");
        _corpus = Corpus.Build();
        using var dir = new TempDir();
        var path = dir.File("corpus.pcap");
        using (var w = PcapWriter.Create(path, LinkType.Raw))
            foreach (var e in _corpus)
                w.Write(e.Bytes, DateTimeOffset.UnixEpoch.AddSeconds(1_800_000_000 + e.Index));

        var args = new List<string>
        {
            "-n", "-r", path,
            "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
            "-o", "tcp.relative_sequence_numbers:FALSE", "-o", "mptcp.relative_sequence_numbers:FALSE",
            "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "ip.defragment:FALSE",
            "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n",
            "-e", "frame.number",
        };
        foreach (var f in TsharkExpectation.AllFields)
        {
            args.Add("-e");
            args.Add(f);
        }
        var output = ExternalTool.Run(tshark, args, timeoutSeconds: 60);
        _rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split('\t')).ToList();
    }

    [Test]
    public void TsharkReadsEverySegmentOfTheCorpus()
    {
        Assert.That(_corpus!, Has.Count.GreaterThanOrEqualTo(200));
        Assert.That(_rows!, Has.Count.EqualTo(_corpus!.Count));
        Assert.That(_rows!.Select(r => r[0]), Is.EqualTo(_corpus!.Select(e => (e.Index + 1).ToString())));
    }

    [Test]
    public void EveryChecksumIsGoodExceptTheOnesBrokenOnPurpose()
    {
        int tcpIndex = 1 + Array.IndexOf(TsharkExpectation.AllFields, "tcp.checksum.status");
        int ipIndex = 1 + Array.IndexOf(TsharkExpectation.AllFields, "ip.checksum.status");
        var bad = new List<string>();
        int good = 0, brokenSeenBad = 0;
        foreach (var e in _corpus!)
        {
            var row = _rows![e.Index];
            // tshark 4.0: 0 = bad, 1 = good, 2 = unverified
            if (e.Fragment) continue; // a fragment's TCP checksum covers bytes that are not there
            string expected = e.WrongTcpChecksum ? "0" : "1";
            if (row[tcpIndex] != expected) bad.Add($"#{e.Index + 1} {e.Name}: TCP checksum status {row[tcpIndex]}, expected {expected}");
            else if (e.WrongTcpChecksum) brokenSeenBad++;
            else good++;
            string ip = e.Segment.Ip is Packets.Ipv4Header ? e.WrongIpChecksum ? "0" : "1" : "";
            if (row[ipIndex] != ip) bad.Add($"#{e.Index + 1} {e.Name}: IP checksum status {row[ipIndex]}, expected '{ip}'");
        }
        Assert.That(bad, Is.Empty);
        Assert.That(good, Is.GreaterThanOrEqualTo(200));
        Assert.That(brokenSeenBad, Is.EqualTo(_corpus!.Count(e => e.WrongTcpChecksum)).And.GreaterThan(0));
    }

    [Test]
    public void EveryFieldTsharkReportsMatchesWhatWasBuilt()
    {
        var mismatches = new List<string>();
        int compared = 0, nonEmpty = 0;
        foreach (var e in _corpus!)
        {
            var row = _rows![e.Index];
            foreach (var (field, expected) in TsharkExpectation.For(e))
            {
                string actual = row[1 + Array.IndexOf(TsharkExpectation.AllFields, field)];
                compared++;
                if (expected.Length > 0) nonEmpty++;
                if (actual != expected)
                    mismatches.Add($"#{e.Index + 1} {e.Name}: {field} = '{Cut(actual)}', built '{Cut(expected)}'");
            }
        }
        Assert.That(mismatches, Is.Empty, $"{mismatches.Count} of {compared} fields differ");
        TestContext.Out.WriteLine($"{compared} fields compared, {nonEmpty} of them with a value");
        Assert.That(compared, Is.GreaterThan(15_000));
        Assert.That(nonEmpty, Is.GreaterThan(NonEmptyFloor));
    }

    private const int NonEmptyFloor = 5000;

    private static string Cut(string s) => s.Length <= 80 ? s : s[..80] + "...";

    [Test]
    public void TheCorpusCoversEveryOptionTypeAndEveryMptcpSubtype()
    {
        var optionTypes = typeof(TcpOption).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.IsSubclassOf(typeof(TcpOption)) && !t.IsAbstract && t != typeof(MalformedOption))
            .ToHashSet();
        var used = _corpus!.SelectMany(e => e.Segment.Options).Select(o => o.GetType()).ToHashSet();
        Assert.That(optionTypes.Except(used).Select(t => t.Name), Is.Empty, "option classes missing from the corpus");

        // tshark's own reading of the subtypes, not ours.
        int subtypeIndex = 1 + Array.IndexOf(TsharkExpectation.AllFields, "tcp.options.mptcp.subtype");
        var subtypes = _corpus!.Where(e => !e.LegacyMptcp)
            .SelectMany(e => _rows![e.Index][subtypeIndex].Split(',', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.That(subtypes, Is.SupersetOf(Enumerable.Range(0, 9).Select(i => i.ToString())));

        int kindIndex = 1 + Array.IndexOf(TsharkExpectation.AllFields, "tcp.option_kind");
        var kinds = _rows!.SelectMany(r => r[kindIndex].Split(',', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.That(kinds, Is.SupersetOf(new[] { "0", "1", "2", "3", "4", "5", "8", "19", "29", "30", "31", "32", "34", "253", "254" }));
        Assert.That(_corpus!.Count(e => e.Segment.Ip is Packets.Ipv6Header), Is.GreaterThanOrEqualTo(80));
        Assert.That(_corpus!.Count(e => e.Segment.Payload.Length % 2 == 1), Is.GreaterThanOrEqualTo(50));
        Assert.That(_corpus!.Count(e => e.Segment.Ip is Packets.Ipv4Header { Options.Length: > 0 }), Is.GreaterThanOrEqualTo(3));
    }
}
