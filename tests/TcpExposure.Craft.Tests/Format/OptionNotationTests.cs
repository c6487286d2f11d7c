using System.Collections.Immutable;
using System.Net;
using TcpExposure.Craft.Format;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Format;

public class OptionNotationTests
{
    private static readonly byte[] Hmac20 = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();

    /// <summary>One or more instances of every option type, including lies and malformed ones.</summary>
    public static IEnumerable<TestCaseData> EveryOptionType()
    {
        TcpOption[] all =
        [
            EndOfOptionListOption.Instance,
            new EndOfOptionListOption { Trailer = new byte[] { 0, 0, 7 } },
            NopOption.Instance,
            new MssOption(512), new MssOption(0), new MssOption(65535),
            new WindowScaleOption(3), new WindowScaleOption(255),
            SackPermittedOption.Instance,
            new SackOption(new SackBlock(1, 2)),
            new SackOption(new SackBlock(1, 2), new SackBlock(3, 4), new SackBlock(uint.MaxValue, 0), new SackBlock(7, 8)),
            new SackOption(ImmutableArray<SackBlock>.Empty),
            new TimestampsOption(12345, 0), new TimestampsOption(uint.MaxValue, 1),
            new Md5SignatureOption(Enumerable.Range(0, 16).Select(i => (byte)(i * 17)).ToArray()),
            new Md5SignatureOption(Array.Empty<byte>()),
            new TcpAoOption(1, 2, new byte[] { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8 }),
            new TcpAoOption(0, 255, Array.Empty<byte>()),
            new FastOpenOption(Array.Empty<byte>()), new FastOpenOption(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }),
            new ExperimentalOption(254, 0xf989, new byte[] { 0xca, 0xfe }), new ExperimentalOption(253, 0, Array.Empty<byte>()),
            new MpCapableOption(1, 0x81),
            new MpCapableOption(1, 0x81, 0x0102030405060708),
            new MpCapableOption(1, 0x01, 0x0102030405060708, 0xfffffffffffffff0),
            new MpCapableOption(1, 0xa1, 1, 2, 1460),
            new MpCapableOption(1, 0xa1, 1, 2, 1460, 0xbeef),
            new MpCapableOption(0, 0x81, 0x1122334455667788),
            new MpJoinSynOption(true, 3, 0xdeadbeef, 0x12345678), new MpJoinSynOption(false, 0, 0, 0),
            new MpJoinSynAckOption(false, 1, 0x0123456789abcdef, 42), new MpJoinSynAckOption(true, 9, ulong.MaxValue, uint.MaxValue),
            new MpJoinAckOption(Hmac20),
            new DssOption { DataAck = 7 },
            new DssOption { DataAck = 0x1_0000_0000, DataAck64 = true },
            new DssOption { Dsn = 100, SubflowSeq = 1, DataLevelLength = 512 },
            new DssOption { DataAck = 5, Dsn = 0xffff_ffff_ffff, Dsn64 = true, SubflowSeq = 9, DataLevelLength = 0, Checksum = 0xabcd, DataFin = true },
            new DssOption { DataFin = true },
            new DssOption(),
            new AddAddrOption(false, 1, IPAddress.Parse("10.0.0.1"), 80, 0x0102030405060708),
            new AddAddrOption(true, 2, IPAddress.Parse("10.0.0.2")),
            new AddAddrOption(false, 3, IPAddress.Parse("2001:db8::1"), null, 5),
            new AddAddrOption(true, 4, IPAddress.Parse("2001:db8::2"), 443),
            new RemoveAddrOption([1, 2]), new RemoveAddrOption([7]),
            new MpPrioOption(true, 3), new MpPrioOption(false), new MpPrioOption(true),
            new MpFailOption(0x0102030405060708), new MpFastCloseOption(ulong.MaxValue),
            new MpTcpRstOption(0x1, 2), new MpTcpRstOption(0xf, 255),
            new LegacyMpCapableOption(0xdeadbeef, 0x0102030405060708),
            new LegacyMpDataOption(1, 512, 1), new LegacyMpAckOption(uint.MaxValue),
            new RawOption(200, new byte[] { 0xca, 0xfe }) { DeclaredLengthOverride = 9 },
            new RawOption(200, new byte[] { 0xca, 0xfe }),
            new RawOption(200, Array.Empty<byte>()),
            new RawOption(200, Array.Empty<byte>()) { OmitLength = true },
            new RawOption(77, new byte[] { 1, 2, 3 }) { OmitLength = true },
            new RawOption(2, new byte[] { 5 }) { DeclaredLengthOverride = 1 },
            new MssOption(1460) { DeclaredLengthOverride = 3 },
            new TimestampsOption(1, 2) { DeclaredLengthOverride = 40 },
            new MalformedOption(2, -1, ReadOnlyMemory<byte>.Empty, OptionProblem.MissingLength),
            new MalformedOption(8, 1, new byte[] { 1, 2 }, OptionProblem.LengthTooSmall),
            new MalformedOption(8, 0, ReadOnlyMemory<byte>.Empty, OptionProblem.LengthTooSmall),
            new MalformedOption(5, 18, new byte[] { 0, 0, 0, 1 }, OptionProblem.RunsPastHeader),
            new MalformedOption(2, 5, new byte[] { 1, 2, 3 }, OptionProblem.BadLength),
        ];
        return all.Select(o => new TestCaseData(o).SetArgDisplayNames(o.GetType().Name + " " + Convert.ToHexString(o.ToBytes())));
    }

    [TestCaseSource(nameof(EveryOptionType))]
    public void ParseOfFormatEncodesToTheSameBytes(TcpOption option)
    {
        string text = OptionNotation.Format(option);
        var back = OptionNotation.Parse(text);
        Assert.That(back.ToBytes(), Is.EqualTo(option.ToBytes()), text);
        // Formatting is stable: the parsed option prints the same way (malformed ones become raw, same text).
        Assert.That(OptionNotation.Format(back), Is.EqualTo(text));
    }

    [TestCaseSource(nameof(EveryOptionType))]
    public void WireFormattingOfTheOptionBytesReadsBackToTheSameBytes(TcpOption option)
    {
        var bytes = option.ToBytes();
        string text = OptionNotation.FormatOptionSpace(bytes, exact: true);
        var list = OptionNotation.ParseList(text);
        Assert.That(list.SelectMany(o => o.ToBytes()).ToArray(), Is.EqualTo(bytes), text);
    }

    [TestCase("mss 512", "02040200")]
    [TestCase("wscale 3", "030303")]
    [TestCase("sackOK", "0402")]
    [TestCase("sack 1:2 3:4", "0512000000010000000200000003 00000004")]
    [TestCase("TS val 12345 ecr 0", "080a0000303900000000")]
    [TestCase("nop", "01")]
    [TestCase("eol", "00")]
    [TestCase("md5 000102030405060708090a0b0c0d0e0f", "1312000102030405060708090a0b0c0d0e0f")]
    [TestCase("ao keyid 1 rnext 2 mac cafe", "1d060102cafe")]
    [TestCase("FO", "2202")]
    [TestCase("FO 0102030405060708", "220a0102030405060708")]
    [TestCase("exp 254 exid 0xf989 data cafe", "fe06f989cafe")]
    [TestCase("mp_capable v1 flags 0x81 skey 0x1 rkey 0x2 dlen 4 csum 0x5", "1e18 0181 0000000000000001 0000000000000002 0004 0005")]
    [TestCase("mp_join_syn backup id 1 token 0xa nonce 0xb", "1e0c 1101 0000000a 0000000b")]
    [TestCase("mp_join_synack id 1 hmac 0x1 nonce 0x2", "1e10 1001 0000000000000001 00000002")]
    [TestCase("mp_join_ack hmac 0102030405060708090a0b0c0d0e0f1011121314", "1e18 1000 0102030405060708090a0b0c0d0e0f1011121314")]
    [TestCase("dss ack 0x10 dsn 0x20 ssn 1 dlen 2 csum 0x3 fin", "1e14 2015 00000010 00000020 00000001 0002 0003")]
    [TestCase("dss ack 0x10 ack64", "1e0c 2003 0000000000000010")]
    [TestCase("add_addr id 1 addr 10.0.0.1 port 80 hmac 0x1", "1e12 3001 0a000001 0050 0000000000000001")]
    [TestCase("add_addr id 1 addr 10.0.0.1 echo", "1e08 3101 0a000001")]
    [TestCase("remove_addr 1,2", "1e05 40 0102")]
    [TestCase("mp_prio backup id 3", "1e04 5103")]
    [TestCase("mp_fail dsn 0x1", "1e0c 6000 0000000000000001")]
    [TestCase("mp_fastclose key 0x1", "1e0c 7000 0000000000000001")]
    [TestCase("mp_tcprst flags 0x1 reason 2", "1e04 8102")]
    [TestCase("mp_capable_legacy token 0x1 idsn 0x2", "1e0e 00000001 0000000000000002")]
    [TestCase("mp_data dsn 1 len 512 ssn 1", "1f0c 00000001 0200 00000001")]
    [TestCase("mp_ack 7", "2006 00000007")]
    [TestCase("kind 200 len 9 data cafe", "c809cafe")]
    [TestCase("kind 200 data cafe", "c804cafe")]
    [TestCase("kind 200 nolen", "c8")]
    [TestCase("KIND 0xc8 NOLEN DATA 0xCAFE", "c8cafe")]
    public void WrittenNotationEncodesToTheExpectedBytes(string text, string hex)
    {
        Assert.That(Convert.ToHexStringLower(OptionNotation.Parse(text).ToBytes()), Is.EqualTo(hex.Replace(" ", "")));
    }

    [Test]
    public void ExampleOptionsFormatAsPacketdrillWritesThem()
    {
        TcpOption[] opts = [new MssOption(512), SackPermittedOption.Instance, new TimestampsOption(12345, 0), new WindowScaleOption(3), NopOption.Instance];
        Assert.That(OptionNotation.FormatList(opts), Is.EqualTo("mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop"));
        Assert.That(OptionNotation.ParseList("<mss 512,sackOK,TS val 12345 ecr 0,wscale 3,nop>"), Is.EqualTo(opts));
    }

    [Test]
    public void RemoveAddrCommasDoNotSplitTheList()
    {
        var list = OptionNotation.ParseList("<nop,remove_addr 1,2,3,nop>");
        Assert.That(list.Length, Is.EqualTo(3));
        Assert.That(((RemoveAddrOption)list[1]).AddressIds, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [TestCase("mss", "", 3, "expected the MSS value")]
    [TestCase("mss 70000", "70000", 4, "0 to 65535")]
    [TestCase("wscale x", "x", 7, "window scale")]
    [TestCase("bogus 1", "bogus", 0, "unknown option")]
    [TestCase("TS val 1", "TS", 0, "'ecr")]
    [TestCase("kind 200 data abc", "abc", 14, "even number")]
    [TestCase("exp 200 exid 1", "200", 4, "253 or 254")]
    [TestCase("mp_prio color 3", "color", 8, "unknown word")]
    public void BadNotationNamesTheTokenAndPosition(string text, string token, int position, string reason)
    {
        var e = Assert.Throws<NotationException>(() => OptionNotation.Parse(text))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Token, Is.EqualTo(token));
            Assert.That(e.Position, Is.EqualTo(position));
            Assert.That(e.Message, Does.Contain(reason));
        });
    }

    [Test]
    public void ListErrorsCountPositionsFromTheStartOfTheList()
    {
        var e = Assert.Throws<NotationException>(() => OptionNotation.ParseList("<mss 512,wscale 99999>"))!;
        Assert.That((e.Token, e.Position), Is.EqualTo(("99999", 16)));
    }

    [Test]
    public void SeededRandomOptionSpacesReadBackByteForByte()
    {
        var rng = new Random(20261122);
        var buffer = new byte[40];
        for (int i = 0; i < 20000; i++)
        {
            int n = rng.Next(0, 41);
            rng.NextBytes(buffer.AsSpan(0, n));
            // Bias towards real kinds so that typed forms are exercised, not only raw ones.
            for (int j = 0; j < n; j += 1 + rng.Next(12))
                buffer[j] = (byte)(rng.Next(4) == 0 ? rng.Next(256) : new[] { 1, 2, 3, 4, 5, 8, 19, 29, 30, 31, 32, 34, 253, 254 }[rng.Next(14)]);
            var space = buffer.AsSpan(0, n);
            string text = OptionNotation.FormatOptionSpace(space, exact: true);
            var back = OptionNotation.ParseList(text).SelectMany(o => o.ToBytes()).ToArray();
            Assert.That(back, Is.EqualTo(space.ToArray()), text);
        }
    }

    [Test]
    public void ValidMptcpOptionsFromRandomFieldsRoundTrip()
    {
        var rng = new Random(7);
        ulong U64() => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
        for (int i = 0; i < 2000; i++)
        {
            TcpOption[] opts =
            [
                new MpCapableOption((byte)rng.Next(16), (byte)rng.Next(256), U64(), rng.Next(2) == 0 ? null : U64()),
                new MpJoinSynOption(rng.Next(2) == 0, (byte)rng.Next(256), (uint)rng.NextInt64(), (uint)rng.NextInt64()),
                new MpJoinSynAckOption(rng.Next(2) == 0, (byte)rng.Next(256), U64(), (uint)rng.NextInt64()),
                new DssOption
                {
                    DataAck = rng.Next(2) == 0 ? null : U64() & 0xffffffff, Dsn = rng.Next(2) == 0 ? null : U64(), Dsn64 = true,
                    SubflowSeq = (uint)rng.NextInt64(), DataLevelLength = (ushort)rng.Next(65536), Checksum = rng.Next(2) == 0 ? null : (ushort)rng.Next(65536),
                    DataFin = rng.Next(2) == 0,
                },
                new MpTcpRstOption((byte)rng.Next(16), (byte)rng.Next(256)),
            ];
            foreach (var o in opts)
                Assert.That(OptionNotation.Parse(OptionNotation.Format(o)).ToBytes(), Is.EqualTo(o.ToBytes()), OptionNotation.Format(o));
        }
    }
}
