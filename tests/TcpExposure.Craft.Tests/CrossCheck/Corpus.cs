using System.Collections.Immutable;
using System.Net;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>What a corpus segment is, and which independent checks can speak about it.</summary>
internal sealed record CorpusEntry(int Index, string Name, TcpSegment Segment, byte[] Bytes)
{
    /// <summary>Options built wrong on purpose (lying length, missing length, running past the header) or a lying data offset.</summary>
    public bool Malformed { get; init; }
    /// <summary>The TCP checksum is wrong on purpose; tshark must call it bad.</summary>
    public bool WrongTcpChecksum { get; init; }
    /// <summary>An IPv4 fragment (MF set or an offset): tshark, not reassembling, is only asked about the IP header.</summary>
    public bool Fragment { get; init; }
    /// <summary>The IPv4 header checksum is wrong on purpose.</summary>
    public bool WrongIpChecksum { get; init; }
    /// <summary>The pre-RFC MPTCP options of the legacy tools (kind 30 len 14, 31, 32), which tshark reads as something else.</summary>
    public bool LegacyMptcp { get; init; }
}

/// <summary>
/// The cross-check corpus: a seeded, deterministic set of segments covering every option type of
/// Options/ (each in IPv4 and IPv6), all nine flags, urgent pointers, odd payload lengths, IPv4
/// options, and some segments that are wrong on purpose.
/// </summary>
internal static class Corpus
{
    private static readonly IPAddress V4Src = IPAddress.Parse("198.51.100.7");
    private static readonly IPAddress V4Dst = IPAddress.Parse("203.0.113.9");
    private static readonly IPAddress V6Src = IPAddress.Parse("2001:db8:1::7");
    private static readonly IPAddress V6Dst = IPAddress.Parse("2001:db8:2::9");

    private static byte[] Bytes(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(seed * 31 + i * 7 + 1)).ToArray();

    /// <summary>Every option type, alone and in the combinations real stacks send. Each set fits in 40 bytes.</summary>
    public static IEnumerable<(string Name, TcpOption[] Options)> OptionSets()
    {
        var nop = NopOption.Instance;
        yield return ("none", []);
        yield return ("mss", [new MssOption(1460)]);
        yield return ("mss-0", [new MssOption(0)]);
        yield return ("mss-max", [new MssOption(65535)]);
        yield return ("ws-0", [new WindowScaleOption(0), nop]);
        yield return ("ws-7", [nop, new WindowScaleOption(7)]);
        yield return ("ws-14", [new WindowScaleOption(14)]);
        yield return ("sackok", [SackPermittedOption.Instance]);
        for (int n = 1; n <= 4; n++)
        {
            var blocks = Enumerable.Range(0, n).Select(i => new SackBlock(new SeqNumber((uint)(0xFFFFFF00u + i * 3000)), new SeqNumber((uint)(0xFFFFFF00u + i * 3000 + 1448)))).ToArray();
            yield return ($"sack-{n}", n < 4 ? [nop, nop, new SackOption(blocks)] : [new SackOption(blocks)]);
        }
        yield return ("ts", [nop, nop, new TimestampsOption(0xDEADBEEF, 0x01020304)]);
        yield return ("ts-zero-ecr", [new TimestampsOption(12345, 0)]);
        yield return ("linux-syn", [new MssOption(1460), SackPermittedOption.Instance, new TimestampsOption(3003, 0), nop, new WindowScaleOption(7)]);
        yield return ("legacy-syn", [new MssOption(512), SackPermittedOption.Instance, new TimestampsOption(12345, 0), new WindowScaleOption(3), nop]);
        yield return ("ts-sack", [nop, nop, new TimestampsOption(1, 2), nop, nop, new SackOption(new SackBlock(new SeqNumber(100), new SeqNumber(200)), new SackBlock(new SeqNumber(300), new SeqNumber(400)))]);
        yield return ("mss-eol", [new MssOption(536), EndOfOptionListOption.Instance]);
        yield return ("eol-trailer", [nop, EndOfOptionListOption.Instance]);
        yield return ("md5", [new Md5SignatureOption(Bytes(16, 1)), nop, nop]);
        yield return ("md5-ts", [new Md5SignatureOption(Bytes(16, 2)), nop, nop, nop, nop, new TimestampsOption(77, 88)]);
        yield return ("ao-12", [new TcpAoOption(1, 2, Bytes(12, 3))]);
        yield return ("ao-16", [new TcpAoOption(200, 17, Bytes(16, 4)), nop, nop]);
        yield return ("tfo-request", [new MssOption(1400), new FastOpenOption(ReadOnlyMemory<byte>.Empty)]);
        yield return ("tfo-cookie-8", [new FastOpenOption(Bytes(8, 5)), nop, nop]);
        yield return ("tfo-cookie-4", [new FastOpenOption(Bytes(4, 6)), nop, nop]);
        yield return ("tfo-cookie-16", [new FastOpenOption(Bytes(16, 7)), nop, nop]);
        yield return ("exp-253-tfo", [new ExperimentalOption(253, 0xF989, Bytes(8, 8))]);
        yield return ("exp-254", [new ExperimentalOption(254, 0x0348, Bytes(5, 9)), nop]);
        yield return ("exp-254-exid-only", [new ExperimentalOption(254, 0xABCD, ReadOnlyMemory<byte>.Empty)]);
        yield return ("raw-150", [new RawOption(150, Bytes(3, 10)), nop]);
        yield return ("raw-200-empty", [new RawOption(200, ReadOnlyMemory<byte>.Empty), nop, nop]);
        yield return ("raw-99", [new RawOption(99, Bytes(10, 11))]);
        yield return ("raw-and-mss", [new RawOption(42, Bytes(2, 12)), new MssOption(9000)]);

        // RFC 8684 MPTCP, every subtype and form.
        yield return ("mpc-v0-syn", [new MpCapableOption(0, 0x81, senderKey: 0x1122334455667788)]);
        yield return ("mpc-v1-syn", [new MpCapableOption(1, 0x01)]);
        yield return ("mpc-v1-synack", [new MpCapableOption(1, 0x01, senderKey: 0xA1A2A3A4A5A6A7A8)]);
        yield return ("mpc-v1-ack", [new MpCapableOption(1, 0x01, 0x0102030405060708, 0x1112131415161718)]);
        yield return ("mpc-v1-ack-data", [new MpCapableOption(1, 0x01, 0x0102030405060708, 0x1112131415161718, 1000), nop, nop]);
        yield return ("mpc-v1-ack-data-csum", [new MpCapableOption(1, 0x81, 0x0102030405060708, 0x1112131415161718, 1000, 0xBEEF)]);
        yield return ("join-syn", [new MpJoinSynOption(true, 3, 0xCAFEBABE, 0x12345678)]);
        yield return ("join-syn-nobackup", [new MpJoinSynOption(false, 0, 0x01, 0x02)]);
        yield return ("join-synack", [new MpJoinSynAckOption(false, 4, 0x0102030405060708, 0x9ABCDEF0)]);
        yield return ("join-ack", [new MpJoinAckOption(Bytes(20, 13))]);
        foreach (int ack in new[] { 0, 4, 8 })
            foreach (int dsn in new[] { 0, 4, 8 })
                foreach (bool csum in dsn == 0 ? new[] { false } : new[] { false, true })
                    foreach (bool fin in new[] { false, true })
                    {
                        var dss = new DssOption
                        {
                            DataAck = ack == 0 ? null : 0x0102030405060708UL >> (ack == 4 ? 32 : 0),
                            DataAck64 = ack == 8,
                            Dsn = dsn == 0 ? null : 0x1112131415161718UL >> (dsn == 4 ? 32 : 0),
                            Dsn64 = dsn == 8,
                            SubflowSeq = 0x21222324,
                            DataLevelLength = 1337,
                            Checksum = csum ? (ushort)0x7777 : null,
                            DataFin = fin,
                        };
                        yield return ($"dss-a{ack}-m{dsn}{(csum ? "-csum" : "")}{(fin ? "-fin" : "")}", [dss]);
                    }
        yield return ("addaddr-v4-echo", [new AddAddrOption(true, 5, IPAddress.Parse("192.0.2.33"))]);
        yield return ("addaddr-v4-port-echo", [new AddAddrOption(true, 5, IPAddress.Parse("192.0.2.33"), 8080), nop, nop]);
        yield return ("addaddr-v4-hmac", [new AddAddrOption(false, 6, IPAddress.Parse("192.0.2.34"), hmac: 0x0F0E0D0C0B0A0908)]);
        yield return ("addaddr-v4-port-hmac", [new AddAddrOption(false, 7, IPAddress.Parse("192.0.2.35"), 443, 0x1F1E1D1C1B1A1918), nop, nop]);
        yield return ("addaddr-v6-echo", [new AddAddrOption(true, 8, IPAddress.Parse("2001:db8::35"))]);
        yield return ("addaddr-v6-hmac", [new AddAddrOption(false, 9, IPAddress.Parse("2001:db8::36"), hmac: 0x2F2E2D2C2B2A2928)]);
        yield return ("addaddr-v6-port-hmac", [new AddAddrOption(false, 10, IPAddress.Parse("2001:db8::37"), 993, 0x3F3E3D3C3B3A3938), nop, nop]);
        yield return ("removeaddr-1", [new RemoveAddrOption([4]), nop]);
        yield return ("removeaddr-3", [new RemoveAddrOption([1, 2, 3]), nop, nop]);
        yield return ("prio-backup", [new MpPrioOption(true), nop]);
        yield return ("prio-id", [new MpPrioOption(false, 12)]);
        yield return ("mpfail", [new MpFailOption(0x0102030405060708), nop, nop]);
        yield return ("fastclose", [new MpFastCloseOption(0x8877665544332211), nop, nop]);
        yield return ("tcprst", [new MpTcpRstOption(0x09, 3)]);
        yield return ("dss-ts", [nop, nop, new TimestampsOption(5, 6), new DssOption { DataAck = 77, Dsn = 99, SubflowSeq = 1, DataLevelLength = 10 }]);
    }

    /// <summary>The legacy draft MPTCP options (LEGACY_API.md): tshark knows nothing of them but their kinds and lengths.</summary>
    public static IEnumerable<(string Name, TcpOption[] Options)> LegacyOptionSets()
    {
        yield return ("legacy-mpcapable", [new LegacyMpCapableOption(0x01020304, 0x1122334455667788), nop2]);
        yield return ("legacy-mpdata", [new LegacyMpDataOption(1000, 200, 1), nop2]);
        yield return ("legacy-mpack", [new LegacyMpAckOption(5000), nop2, nop2]);
        yield return ("legacy-mpdata-ack", [new LegacyMpDataOption(7, 8, 9), new LegacyMpAckOption(10), nop2, nop2]);
    }

    private static readonly NopOption nop2 = NopOption.Instance;

    /// <summary>Options broken on purpose; no builder but ours (and raw bytes) can make them.</summary>
    public static IEnumerable<(string Name, TcpOption[] Options, byte? DataOffset)> MalformedSets()
    {
        yield return ("mss-len-lies-6", [new MssOption(1460) { DeclaredLengthOverride = 6 }], null);
        yield return ("raw-len-0", [new RawOption(151, Bytes(2, 14)) { DeclaredLengthOverride = 0 }], null);
        yield return ("raw-len-1", [new RawOption(152, Bytes(2, 15)) { DeclaredLengthOverride = 1 }], null);
        yield return ("raw-no-len", [new RawOption(153, ReadOnlyMemory<byte>.Empty) { OmitLength = true }], null);
        yield return ("runs-past-header", [nop2, nop2, new RawOption(154, Bytes(2, 16)) { DeclaredLengthOverride = 30 }], null);
        yield return ("offset-says-5-with-options", [new MssOption(1460)], 5);
        yield return ("offset-says-8", [new MssOption(1460)], 8);
        yield return ("offset-says-15", [], 15);
    }

    /// <summary>IPv4 options, well formed.</summary>
    public static IEnumerable<(string Name, byte[] Options)> IpOptionSets()
    {
        yield return ("ipopt-nop-eol", [1, 0]);
        yield return ("ipopt-rr", [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        yield return ("ipopt-router-alert", [148, 4, 0, 0]);
        yield return ("ipopt-ts", [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        var rr = new byte[40];
        rr[0] = 7; rr[1] = 39; rr[2] = 4;
        yield return ("ipopt-rr-ihl15", rr);
    }

    private static readonly int[] PayloadLengths = [0, 1, 3, 7, 31, 99, 513, 1001];

    public static IReadOnlyList<CorpusEntry> Build()
    {
        var rng = new Random(8684);
        var list = new List<CorpusEntry>();

        TcpSegment Base(bool v6, int i)
        {
            IpHeader ip = v6
                ? new Ipv6Header { Source = V6Src, Destination = V6Dst, Ttl = (byte)rng.Next(1, 256), TrafficClass = (byte)rng.Next(256), FlowLabel = (uint)rng.Next(0x100000) }
                : new Ipv4Header
                {
                    Source = V4Src, Destination = V4Dst, Ttl = (byte)rng.Next(1, 256), Tos = (byte)rng.Next(256),
                    Identification = (ushort)rng.Next(65536), DontFragment = rng.Next(2) == 0,
                };
            int payload = PayloadLengths[i % PayloadLengths.Length];
            var flags = (TcpFlags)rng.Next(0x200);
            return new TcpSegment
            {
                Ip = ip,
                SourcePort = (ushort)rng.Next(1024, 65536),
                DestinationPort = (ushort)rng.Next(20000, 30000), // no dissector of tshark's claims these
                Sequence = new SeqNumber((uint)rng.NextInt64(0x1_0000_0000)),
                Acknowledgment = new SeqNumber((uint)rng.NextInt64(0x1_0000_0000)),
                Flags = flags,
                Window = (ushort)rng.Next(65536),
                UrgentPointer = (flags & TcpFlags.Urg) != 0 ? (ushort)rng.Next(payload + 1) : (ushort)0,
                Payload = Bytes(payload, i),
            };
        }

        void Add(string name, TcpSegment s, bool malformed = false, bool wrong = false, bool legacy = false)
            => list.Add(new CorpusEntry(list.Count, name, s, s.ToArray()) { Malformed = malformed, WrongTcpChecksum = wrong, LegacyMptcp = legacy });

        int k = 0;
        foreach (var (name, options) in OptionSets())
            foreach (bool v6 in new[] { false, true })
                Add($"{name}/{(v6 ? "v6" : "v4")}", Base(v6, k++) with { Options = [.. options] });
        foreach (var (name, options) in LegacyOptionSets())
            foreach (bool v6 in new[] { false, true })
                Add($"{name}/{(v6 ? "v6" : "v4")}", Base(v6, k++) with { Options = [.. options] }, legacy: true);

        // Each of the nine flags alone, all of them, none; urgent data with a pointer.
        for (int bit = 0; bit < 9; bit++)
            Add($"flag-{(TcpFlags)(1 << bit)}", Base(bit % 2 == 1, k++) with { Flags = (TcpFlags)(1 << bit), UrgentPointer = 0 });
        Add("flags-all", Base(false, k++) with { Flags = (TcpFlags)0x1FF, UrgentPointer = 1 });
        Add("flags-none", Base(true, k++) with { Flags = TcpFlags.None, UrgentPointer = 0 });
        Add("urgent-pointer", Base(false, 6) with { Flags = TcpFlags.Urg | TcpFlags.Ack | TcpFlags.Psh, UrgentPointer = 99, Payload = Bytes(99, 1) });
        Add("reserved-bits", Base(false, k++) with { Reserved = 5 });
        foreach (int n in PayloadLengths.Concat([2, 1459, 1460]))
            Add($"payload-{n}", Base(n % 2 == 0, k++) with { Payload = Bytes(n, n) });

        foreach (var (name, ipOptions) in IpOptionSets())
        {
            var b = Base(false, k++);
            Add(name, b with { Ip = ((Ipv4Header)b.Ip) with { Options = ipOptions }, Options = [new MssOption(1200)] });
        }

        foreach (var (name, options, offset) in MalformedSets())
            foreach (bool v6 in new[] { false, true })
                Add($"{name}/{(v6 ? "v6" : "v4")}", Base(v6, k++) with { Options = [.. options], DataOffset = offset }, malformed: true);

        // IPv4 fragment fields, the reserved ("evil") bit and a wrong header checksum.
        Ipv4Header V4Of(TcpSegment b) => (Ipv4Header)b.Ip;
        var f = Base(false, k++);
        list.Add(new CorpusEntry(list.Count, "ip-first-fragment", f = f with { Ip = V4Of(f) with { MoreFragments = true, DontFragment = false } }, f.ToArray()) { Fragment = true });
        f = Base(false, k++);
        list.Add(new CorpusEntry(list.Count, "ip-later-fragment", f = f with { Ip = V4Of(f) with { FragmentOffset = 185, DontFragment = false } }, f.ToArray()) { Fragment = true });
        f = Base(false, k++);
        list.Add(new CorpusEntry(list.Count, "ip-middle-fragment", f = f with { Ip = V4Of(f) with { FragmentOffset = 8191, MoreFragments = true, DontFragment = false } }, f.ToArray()) { Fragment = true });
        f = Base(false, k++);
        Add("ip-evil-bit", f with { Ip = V4Of(f) with { ReservedFlag = true } });
        f = Base(false, k++);
        ushort rightIp = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(f.ToArray().AsSpan(10));
        list.Add(new CorpusEntry(list.Count, "ip-wrong-checksum", f = f with { Ip = V4Of(f) with { Checksum = (ushort)~rightIp } }, f.ToArray()) { WrongIpChecksum = true });

        for (int i = 0; i < 4; i++)
            Add($"wrong-checksum-{i}", (Base(i % 2 == 1, k++) with { Options = [new MssOption(1460)] }).WithWrongChecksum(), wrong: true);
        return list;
    }
}
