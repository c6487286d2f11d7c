using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>
/// Our own parser over the corpus that tshark and scapy vouched for: every packet whose TCP
/// header is present parses and re-encodes to the same bytes, and the well-formed ones come back
/// as the very values they were built from.
/// </summary>
public class CorpusParseTests
{
    [Test]
    public void ParseThenEncodeGivesBackEveryCorpusPacket()
    {
        var differ = new List<string>();
        foreach (var e in Corpus.Build())
        {
            var r = TcpSegment.Parse(e.Bytes, e.LegacyMptcp ? MptcpDialect.Legacy : MptcpDialect.Auto);
            bool tcpReadable = !e.Fragment || e.Segment.Ip is Ipv4Header { FragmentOffset: 0 };
            if (!tcpReadable)
            {
                if (r.HasSegment) differ.Add($"{e.Name}: a later fragment parsed as TCP");
                continue;
            }
            if (!r.HasSegment)
            {
                differ.Add($"{e.Name}: no segment ({r.Problems})");
                continue;
            }
            var again = r.Segment!.ToArray();
            if (!again.AsSpan().SequenceEqual(e.Bytes))
                differ.Add($"{e.Name}: re-encoded\n  {Convert.ToHexString(again)}\n  {Convert.ToHexString(e.Bytes)}");
        }
        Assert.That(differ, Is.Empty);
    }

    [Test]
    public void WellFormedCorpusSegmentsParseCleanIntoTheValuesTheyWereBuiltFrom()
    {
        var differ = new List<string>();
        foreach (var e in Corpus.Build().Where(e => !e.Malformed && !e.Fragment))
        {
            var r = TcpSegment.Parse(e.Bytes, e.LegacyMptcp ? MptcpDialect.Legacy : MptcpDialect.Auto);
            var expectedProblems = (e.WrongTcpChecksum ? ParseProblems.BadTcpChecksum : 0) | (e.WrongIpChecksum ? ParseProblems.BadIpChecksum : 0);
            if (r.Problems != expectedProblems)
            {
                differ.Add($"{e.Name}: problems {r.Problems}, expected {expectedProblems}");
                continue;
            }
            var p = r.Segment!;
            var b = e.Segment;
            if (p.SourcePort != b.SourcePort || p.DestinationPort != b.DestinationPort || p.Sequence != b.Sequence
                || p.Acknowledgment != b.Acknowledgment || p.Flags != b.Flags || p.Reserved != b.Reserved || p.Window != b.Window
                || p.UrgentPointer != b.UrgentPointer || !p.Payload.Span.SequenceEqual(b.Payload.Span))
                differ.Add($"{e.Name}: header fields or payload differ");
            // Padding after the last option may come back as an EOL that absorbs it; anything else must match one for one.
            var parsed = p.Options.ToList();
            if (parsed.Count == b.Options.Length + 1 && parsed[^1] is EndOfOptionListOption && b.Options.LastOrDefault() is not EndOfOptionListOption)
                parsed.RemoveAt(parsed.Count - 1);
            if (parsed.Count == b.Options.Length && parsed.Count > 0 && parsed[^1] is EndOfOptionListOption && b.Options[^1] is EndOfOptionListOption)
                parsed[^1] = EndOfOptionListOption.Instance;
            if (!parsed.SequenceEqual(b.Options))
                differ.Add($"{e.Name}: options\n  parsed {string.Join(", ", p.Options.Select(o => $"{o.GetType().Name}:{o}"))}\n  built  {string.Join(", ", b.Options.Select(o => $"{o.GetType().Name}:{o}"))}");
        }
        Assert.That(differ, Is.Empty);
    }

    /// <summary>The case the corpus found: a data offset past the end with the bytes stopping inside a 32-bit word.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void DataOffsetPastTheEndInsideAWordReencodesExactly(int extra)
    {
        var built = TcpSegment.Create(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.1"), 1),
            new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.2"), 2)) with
        {
            Options = [new MssOption(1460)],
            Payload = new byte[extra],
            DataOffset = 10,
        };
        var bytes = built.ToArray();
        var r = TcpSegment.Parse(bytes);
        Assert.That(r.Problems, Is.EqualTo(ParseProblems.BadDataOffset));
        Assert.That(r.Segment!.ToArray(), Is.EqualTo(bytes));
    }
}
