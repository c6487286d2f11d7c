using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;
using static TcpExposure.Craft.Tests.Properties.Generators;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>Typed option -> bytes -> parser -> the same option, and the same bytes again, for every option type.</summary>
public class OptionRoundTripProperties
{
    public static IEnumerable<TestCaseData> EveryOptionType()
    {
        (string, Gen<TcpOption>, MptcpDialect)[] all =
        [
            ("MSS", Mss, MptcpDialect.Auto), ("WindowScale", WindowScale, MptcpDialect.Auto), ("SackPermitted", SackOk, MptcpDialect.Auto),
            ("NOP", Nop, MptcpDialect.Auto), ("SACK 1-4 blocks", Sack, MptcpDialect.Auto), ("Timestamps", Timestamps, MptcpDialect.Auto),
            ("MD5", Md5, MptcpDialect.Auto), ("TCP-AO", TcpAo, MptcpDialect.Auto), ("FastOpen", FastOpen, MptcpDialect.Auto),
            ("Experimental 253/254", Experimental, MptcpDialect.Auto), ("Raw unknown kind", RawUnknown, MptcpDialect.Auto),
            ("Legacy MP_CAPABLE", LegacyMpCapable, MptcpDialect.Legacy), ("Legacy MP_DATA", LegacyMpData, MptcpDialect.Auto),
            ("Legacy MP_ACK", LegacyMpAck, MptcpDialect.Auto),
            ("MP_CAPABLE v0/v1 all lengths", MpCapable, MptcpDialect.Auto), ("MP_JOIN SYN", MpJoinSyn, MptcpDialect.Auto),
            ("MP_JOIN SYN/ACK", MpJoinSynAck, MptcpDialect.Auto), ("MP_JOIN ACK", MpJoinAck, MptcpDialect.Auto),
            ("DSS all flag combinations", Dss, MptcpDialect.Auto), ("ADD_ADDR v4/v6 port echo", AddAddr, MptcpDialect.Auto),
            ("REMOVE_ADDR", RemoveAddr, MptcpDialect.Auto), ("MP_PRIO", MpPrio, MptcpDialect.Auto), ("MP_FAIL", MpFail, MptcpDialect.Auto),
            ("MP_FASTCLOSE", MpFastClose, MptcpDialect.Auto), ("MP_TCPRST", MpTcpRst, MptcpDialect.Auto),
        ];
        foreach (var (name, gen, dialect) in all)
            yield return new TestCaseData(gen, dialect).SetName($"RoundTrips({name})");
        foreach (var (i, gen) in Rfc8684.Select((g, i) => (i, g)))
            yield return new TestCaseData(gen, MptcpDialect.Rfc8684).SetName($"RoundTripsStrictRfc8684(subtype generator {i})");
    }

    [TestCaseSource(nameof(EveryOptionType))]
    public void RoundTrips(Gen<TcpOption> gen, MptcpDialect dialect) => PropertyCheck.Holds(gen, option =>
    {
        byte[] bytes = option.ToBytes();
        Assert.That(bytes, Has.Length.EqualTo(option.Length));
        var parsed = TcpOptionParser.Parse(bytes, dialect);
        Assert.That(parsed, Has.Length.EqualTo(1), "one option in, one out");
        Assert.That(parsed[0].GetType(), Is.EqualTo(option.GetType()));
        Assert.That(parsed[0], Is.EqualTo(option));
        Assert.That(parsed[0].IsMalformed, Is.False);
        Assert.That(parsed[0].ToBytes(), Is.EqualTo(bytes));
    });

    [Test]
    public void OptionListsRoundTripThroughWholeSegments() => PropertyCheck.Holds(Z(OptionList, Bool), t =>
    {
        var (options, withEol) = t;
        var list = withEol ? [.. options, EndOfOptionListOption.Instance] : options;
        if (list.Sum(o => o.Length) > TcpOptionKind.MaxOptionSpace) list = options;
        var segment = SampleSegment() with { Options = [.. list] };
        byte[] wire = segment.ToArray();

        var result = SegmentParser.Parse(wire);
        Assert.That(result.IsClean, Is.True, string.Join("; ", result.Describe()));
        // The encoder pads with zeros, which read back as EOL and its trailer.
        int body = options.Sum(o => o.Length);
        int padded = segment.TcpHeaderLength - 20;
        var expected = padded > body
            ? [.. options, new EndOfOptionListOption { Trailer = new byte[padded - body - 1] }]
            : options;
        Assert.That(result.Segment!.Options, Is.EqualTo(expected));
        Assert.That(result.Segment.ToArray(), Is.EqualTo(wire));
    }, 500);

    /// <summary>A length byte that lies (0, 1, past the header, or anything): the bad option is marked, the rest kept, the bytes reproduced.</summary>
    [Test]
    public void LyingLengthsAreMarkedAndReproduced() => PropertyCheck.Holds(Z(OptionList, U8, Bytes(0, 12), Gen.Choose(0, 3)), t =>
    {
        var (good, kind, data, mode) = t;
        var prefix = good.TakeWhile((_, i) => good.Take(i + 1).Sum(o => o.Length) <= 40 - 2 - data.Length).ToArray();
        int room = 40 - prefix.Sum(o => o.Length);
        // Fill the space exactly so the lying option is the last thing before the payload.
        int fill = room - 2 - data.Length;
        byte declared = mode switch { 0 => 0, 1 => 1, 2 => (byte)(room + 1 + (kind % 20)), _ => kind };
        if (kind is 0 or 1) kind = 99; // EOL and NOP have no length byte
        var liar = new RawOption(kind, data.Concat(new byte[fill]).ToArray()) { DeclaredLengthOverride = declared };
        var segment = SampleSegment() with { Options = [.. prefix, liar] };
        byte[] wire = segment.ToArray();

        var result = SegmentParser.Parse(wire);
        Assert.That(result.HasSegment, Is.True);
        var parsed = result.Segment!.Options;
        Assert.That(parsed.Take(prefix.Length), Is.EqualTo(prefix), "every option before the bad one is kept");
        if (mode < 3)
        {
            Assert.That(parsed, Has.Length.EqualTo(prefix.Length + 1));
            var bad = parsed[^1] as MalformedOption;
            Assert.That(bad, Is.Not.Null);
            Assert.That(bad!.Problem, Is.EqualTo(mode == 2 ? OptionProblem.RunsPastHeader : OptionProblem.LengthTooSmall));
            Assert.That(bad.DeclaredLength, Is.EqualTo(declared));
            Assert.That(result.Problems.HasFlag(ParseProblems.MalformedOption), Is.True);
        }
        Assert.That(result.Segment.ToArray(), Is.EqualTo(wire), "parse then encode reproduces a lie");
    }, 500);

    /// <summary>A typed option whose length byte was overridden still encodes the lie and never breaks parsing.</summary>
    [Test]
    public void TypedOptionsWithLengthOverridesReproduce() => PropertyCheck.Holds(Z(Gen.Elements(0, 1, 2, 3, 4), U8), t =>
    {
        TcpOption o = t.Item1 switch
        {
            0 => new MssOption(1460) { DeclaredLengthOverride = t.Item2 },
            1 => new WindowScaleOption(7) { DeclaredLengthOverride = t.Item2 },
            2 => new SackPermittedOption { DeclaredLengthOverride = t.Item2 },
            3 => new TimestampsOption(1, 2) { DeclaredLengthOverride = t.Item2 },
            _ => new MpFailOption(42) { DeclaredLengthOverride = t.Item2 },
        };
        Assert.That(o.ToBytes()[1], Is.EqualTo(t.Item2));
        var segment = SampleSegment() with { Options = [o] };
        byte[] wire = segment.ToArray();
        var result = SegmentParser.Parse(wire);
        Assert.That(result.Segment!.ToArray(), Is.EqualTo(wire));
        if (t.Item2 != o.Length)
            Assert.That(result.Segment.Options.Any(x => x.IsMalformed) || !result.Segment.Options[0].Equals(o), Is.True);
    });

    private static TcpSegment SampleSegment() => TcpSegment.Create(
        new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.2"), 55555),
        new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.1"), 80), TcpFlags.Syn) with { Payload = new byte[] { 1, 2, 3 } };
}
