using System.Collections.Immutable;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>FsCheck generators for every typed option and for whole segments.</summary>
public static class Generators
{
    public static Gen<(A, B)> Z<A, B>(Gen<A> a, Gen<B> b) => a.SelectMany(x => b.Select(y => (x, y)));
    public static Gen<(A, B, C)> Z<A, B, C>(Gen<A> a, Gen<B> b, Gen<C> c) => Z(a, b).SelectMany(xy => c.Select(z => (xy.Item1, xy.Item2, z)));
    public static Gen<(A, B, C, D)> Z<A, B, C, D>(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d)
        => Z(a, b, c).SelectMany(t => d.Select(w => (t.Item1, t.Item2, t.Item3, w)));

    public static readonly Gen<byte> U8 = Gen.Choose(0, 255).Select(i => (byte)i);
    public static readonly Gen<ushort> U16 = Gen.Choose(0, 65535).Select(i => (ushort)i);
    public static readonly Gen<uint> U32 = Z(U16, U16).Select(t => ((uint)t.Item1 << 16) | t.Item2);
    public static readonly Gen<ulong> U64 = Z(U32, U32).Select(t => ((ulong)t.Item1 << 32) | t.Item2);
    public static readonly Gen<bool> Bool = Gen.Elements(true, false);

    public static Gen<byte[]> Bytes(int min, int max) => Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(U8, n));
    public static Gen<T?> Maybe<T>(Gen<T> g) where T : struct => Gen.OneOf(Gen.Constant<T?>(null), g.Select(v => (T?)v));

    private static readonly byte[] KnownKinds = [0, 1, 2, 3, 4, 5, 8, 19, 29, 30, 31, 32, 34, 253, 254];

    public static readonly Gen<TcpOption> Mss = U16.Select(v => (TcpOption)new MssOption(v));
    public static readonly Gen<TcpOption> WindowScale = U8.Select(v => (TcpOption)new WindowScaleOption(v));
    public static readonly Gen<TcpOption> SackOk = Gen.Constant((TcpOption)SackPermittedOption.Instance);
    public static readonly Gen<TcpOption> Nop = Gen.Constant((TcpOption)NopOption.Instance);
    public static readonly Gen<TcpOption> Sack = Gen.Choose(1, 4).SelectMany(n =>
        Gen.ArrayOf(Z(U32, U32).Select(t => new SackBlock(t.Item1, t.Item2)), n)).Select(b => (TcpOption)new SackOption(b));
    public static readonly Gen<TcpOption> Timestamps = Z(U32, U32).Select(t => (TcpOption)new TimestampsOption(t.Item1, t.Item2));
    public static readonly Gen<TcpOption> Md5 = Gen.ArrayOf(U8, 16).Select(b => (TcpOption)new Md5SignatureOption(b));
    public static readonly Gen<TcpOption> TcpAo = Z(U8, U8, Bytes(0, 20).Select(b => b))
        .Select(t => (TcpOption)new TcpAoOption(t.Item1, t.Item2, t.Item3));
    public static readonly Gen<TcpOption> FastOpen = Gen.Elements(0, 4, 6, 8, 10, 12, 14, 16)
        .SelectMany(n => Gen.ArrayOf(U8, n)).Select(b => (TcpOption)new FastOpenOption(b));
    public static readonly Gen<TcpOption> Experimental = Z(Gen.Elements((byte)253, (byte)254), U16, Bytes(0, 12))
        .Select(t => (TcpOption)new ExperimentalOption(t.Item1, t.Item2, t.Item3));
    /// <summary>Any kind this library does not type, with any data.</summary>
    public static readonly Gen<TcpOption> RawUnknown = Z(U8.Where(k => Array.IndexOf(KnownKinds, k) < 0), Bytes(0, 20))
        .Select(t => (TcpOption)new RawOption(t.Item1, t.Item2));

    public static readonly Gen<TcpOption> LegacyMpCapable = Z(U32, U64).Select(t => (TcpOption)new LegacyMpCapableOption(t.Item1, t.Item2));
    public static readonly Gen<TcpOption> LegacyMpData = Z(U32, U16, U32).Select(t => (TcpOption)new LegacyMpDataOption(t.Item1, t.Item2, t.Item3));
    public static readonly Gen<TcpOption> LegacyMpAck = U32.Select(v => (TcpOption)new LegacyMpAckOption(v));

    // RFC 8684: every subtype and every form.
    public static readonly Gen<TcpOption> MpCapable =
        Z(Gen.Elements((byte)0, (byte)1), U8, Gen.Choose(0, 4)).SelectMany(t =>
            Z(U64, U64, U16, U16).Select(k => (TcpOption)new MpCapableOption(t.Item1, t.Item2,
                t.Item3 >= 1 ? k.Item1 : null, t.Item3 >= 2 ? k.Item2 : null, t.Item3 >= 3 ? k.Item3 : null, t.Item3 >= 4 ? k.Item4 : null)));
    public static readonly Gen<TcpOption> MpJoinSyn = Z(Bool, U8, U32).SelectMany(t => U32.Select(r => (TcpOption)new MpJoinSynOption(t.Item1, t.Item2, t.Item3, r)));
    public static readonly Gen<TcpOption> MpJoinSynAck = Z(Bool, U8, U64).SelectMany(t => U32.Select(r => (TcpOption)new MpJoinSynAckOption(t.Item1, t.Item2, t.Item3, r)));
    public static readonly Gen<TcpOption> MpJoinAck = Gen.ArrayOf(U8, 20).Select(h => (TcpOption)new MpJoinAckOption(h));
    /// <summary>DSS with every combination of F, m, M, a, A and the checksum.</summary>
    public static readonly Gen<TcpOption> Dss = Z(Gen.Choose(0, 31), Bool, Z(U64, U64, U32)).SelectMany(t =>
        U16.Select(len =>
        {
            int f = t.Item1;
            bool hasAck = (f & 1) != 0, ack64 = (f & 2) != 0, hasMap = (f & 4) != 0, dsn64 = (f & 8) != 0;
            var (a, s, ssn) = t.Item3;
            return (TcpOption)new DssOption
            {
                DataFin = (f & 16) != 0,
                DataAck = hasAck ? (ack64 ? a : (uint)a) : null,
                DataAck64 = hasAck && ack64,
                Dsn = hasMap ? (dsn64 ? s : (uint)s) : null,
                Dsn64 = hasMap && dsn64,
                SubflowSeq = hasMap ? ssn : 0,
                DataLevelLength = hasMap ? len : (ushort)0,
                Checksum = hasMap && t.Item2 ? (ushort)(len ^ 0x5a5a) : null,
            };
        }));
    public static readonly Gen<TcpOption> AddAddr = Z(Bool, U8, Gen.Elements(4, 16)).SelectMany(t =>
        Z(Gen.ArrayOf(U8, t.Item3), Maybe(U16), U64).Select(a => (TcpOption)new AddAddrOption(t.Item1, t.Item2,
            new IPAddress(a.Item1), a.Item2, t.Item1 ? null : a.Item3)));
    public static readonly Gen<TcpOption> RemoveAddr = Bytes(1, 20).Select(ids => (TcpOption)new RemoveAddrOption(ImmutableArray.Create(ids)));
    public static readonly Gen<TcpOption> MpPrio = Z(Bool, Maybe(U8)).Select(t => (TcpOption)new MpPrioOption(t.Item1, t.Item2));
    public static readonly Gen<TcpOption> MpFail = U64.Select(v => (TcpOption)new MpFailOption(v));
    public static readonly Gen<TcpOption> MpFastClose = U64.Select(v => (TcpOption)new MpFastCloseOption(v));
    public static readonly Gen<TcpOption> MpTcpRst = Z(Gen.Choose(0, 15), U8).Select(t => (TcpOption)new MpTcpRstOption((byte)t.Item1, t.Item2));

    public static readonly Gen<TcpOption>[] Rfc8684 = [MpCapable, MpJoinSyn, MpJoinSynAck, MpJoinAck, Dss, AddAddr, RemoveAddr, MpPrio, MpFail, MpFastClose, MpTcpRst];

    /// <summary>Every option type that parses back to itself under <see cref="MptcpDialect.Auto"/>.</summary>
    public static readonly Gen<TcpOption> AnyOption = Gen.OneOf(
        [Mss, WindowScale, SackOk, Nop, Sack, Timestamps, Md5, TcpAo, FastOpen, Experimental, RawUnknown,
         LegacyMpData, LegacyMpAck,
         // Under Auto a legacy MP_CAPABLE whose token starts with the DSS or REMOVE_ADDR nibble reads as RFC 8684.
         LegacyMpCapable.Where(o => ((LegacyMpCapableOption)o).Token >> 28 is not 2 and not 4),
         .. Rfc8684]);

    /// <summary>Options that fit in 40 bytes, in any order, with no EOL.</summary>
    public static readonly Gen<TcpOption[]> OptionList = Gen.ListOf(AnyOption).Select(list =>
    {
        var kept = new List<TcpOption>();
        int n = 0;
        foreach (var o in list)
            if (n + o.Length <= TcpOptionKind.MaxOptionSpace) { kept.Add(o); n += o.Length; }
        return kept.ToArray();
    });

    public static readonly Gen<IPAddress> V4 = Gen.ArrayOf(U8, 4).Select(b => new IPAddress(b));
    public static readonly Gen<IPAddress> V6 = Gen.ArrayOf(U8, 16).Select(b => new IPAddress(b));

    public static readonly Gen<IpHeader> Ipv4 =
        Z(Z(V4, V4, U8), Z(U8, U16, Z(Bool, Bool, Bool)), Z(U8, Bytes(0, 40), Maybe(U16))).Select(t =>
            (IpHeader)new Ipv4Header
            {
                Source = t.Item1.Item1,
                Destination = t.Item1.Item2,
                Ttl = t.Item1.Item3,
                Tos = t.Item2.Item1,
                Identification = t.Item2.Item2,
                ReservedFlag = t.Item2.Item3.Item1,
                DontFragment = t.Item2.Item3.Item2,
                MoreFragments = t.Item2.Item3.Item3,
                Options = t.Item3.Item2,
                Checksum = t.Item3.Item3,
            });

    public static readonly Gen<IpHeader> Ipv6 = Z(Z(V6, V6, U8), Z(U8, Gen.Choose(0, 0xFFFFF))).Select(t =>
        (IpHeader)new Ipv6Header
        {
            Source = t.Item1.Item1,
            Destination = t.Item1.Item2,
            Ttl = t.Item1.Item3,
            TrafficClass = t.Item2.Item1,
            FlowLabel = (uint)t.Item2.Item2,
        });

    /// <summary>A segment with any header fields, flags, reserved bits, options and payload; a wrong checksum sometimes.</summary>
    public static readonly Gen<TcpSegment> Segment =
        Z(Gen.OneOf(Ipv4, Ipv6), Z(U16, U16, U32, U32), Z(Gen.Choose(0, 0x1FF), Gen.Choose(0, 7), U16, U16))
            .SelectMany(h => Z(OptionList, Bytes(0, 300), Gen.Frequency((3, Gen.Constant<ushort?>(null)), (1, U16.Select(v => (ushort?)v))))
                .Select(b => new TcpSegment
                {
                    Ip = h.Item1,
                    SourcePort = h.Item2.Item1,
                    DestinationPort = h.Item2.Item2,
                    Sequence = h.Item2.Item3,
                    Acknowledgment = h.Item2.Item4,
                    Flags = (TcpFlags)h.Item3.Item1,
                    Reserved = (byte)h.Item3.Item2,
                    Window = h.Item3.Item3,
                    UrgentPointer = h.Item3.Item4,
                    Options = [.. b.Item1],
                    Payload = b.Item2,
                    Checksum = b.Item3,
                }));
}
