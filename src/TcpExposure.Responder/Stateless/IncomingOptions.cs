using System.Buffers.Binary;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Stateless;

/// <summary>The options of an incoming segment the responder answers, read in one pass without copying.</summary>
internal readonly ref struct IncomingOptions
{
    public bool HasTimestamp { get; private init; }
    public uint TsVal { get; private init; }
    public bool HasLegacyMpCapable { get; private init; }
    public bool HasLegacyMpData { get; private init; }
    public uint LegacyDsn { get; private init; }
    public ushort LegacyDataLength { get; private init; }
    /// <summary>The whole RFC 8684 MP_CAPABLE option (kind and length included), empty if none.</summary>
    public ReadOnlySpan<byte> RfcMpCapable { get; private init; }
    public bool HasDssMapping { get; private init; }
    public bool DssLongDsn { get; private init; }
    public ulong DssDsn { get; private init; }
    public ushort DssDataLength { get; private init; }
    public bool DssDataFin { get; private init; }

    /// <summary>Reads the first of each answered option; malformed options are skipped, the walk never throws.</summary>
    public static IncomingOptions Read(ReadOnlySpan<byte> space, MptcpDialect dialect)
    {
        bool ts = false, lmc = false, lmd = false, dss = false, longDsn = false, dataFin = false;
        uint tsVal = 0, ldsn = 0;
        ushort llen = 0, dlen = 0;
        ulong dsn = 0;
        ReadOnlySpan<byte> mpc = default;
        foreach (var o in new TcpOptionEnumerator(space))
        {
            if (o.Problem != OptionProblem.None)
                continue;
            switch (o.Kind)
            {
                case TcpOptionKind.Timestamps when !ts && o.Data.Length == 8:
                    ts = true;
                    tsVal = BinaryPrimitives.ReadUInt32BigEndian(o.Data);
                    break;
                case TcpOptionKind.Mptcp when o.DeclaredLength == 14 && IsLegacyCapable(o.Data, dialect):
                    lmc = true;
                    break;
                case TcpOptionKind.Mptcp when o.Data.Length >= 2:
                    int subtype = o.Data[0] >> 4;
                    if (subtype == 0 && mpc.IsEmpty)
                        mpc = space.Slice(o.Offset, o.DeclaredLength);
                    else if (subtype == 2 && !dss)
                        dss = TryReadDss(o.Data, out longDsn, out dsn, out dlen, out dataFin);
                    break;
                case TcpOptionKind.LegacyMpData when !lmd && o.Data.Length == 10:
                    lmd = true;
                    ldsn = BinaryPrimitives.ReadUInt32BigEndian(o.Data);
                    llen = BinaryPrimitives.ReadUInt16BigEndian(o.Data[4..]);
                    break;
            }
        }
        return new IncomingOptions
        {
            HasTimestamp = ts, TsVal = tsVal, HasLegacyMpCapable = lmc, HasLegacyMpData = lmd, LegacyDsn = ldsn,
            LegacyDataLength = llen, RfcMpCapable = mpc, HasDssMapping = dss, DssLongDsn = longDsn, DssDsn = dsn,
            DssDataLength = dlen, DssDataFin = dataFin,
        };
    }

    // Kind 30 length 14 is either the draft MP_CAPABLE or an RFC 8684 DSS (mapping, no ack, no checksum).
    private static bool IsLegacyCapable(ReadOnlySpan<byte> data, MptcpDialect dialect) => dialect switch
    {
        MptcpDialect.Legacy => true,
        MptcpDialect.Rfc8684 => false,
        _ => data[0] >> 4 != 2,
    };

    // RFC 8684 3.3: subtype|reserved, reserved|F|m|M|a|A, [data ack 4/8], [DSN 4/8, subflow seq 4, data-level length 2, checksum 2?].
    private static bool TryReadDss(ReadOnlySpan<byte> data, out bool longDsn, out ulong dsn, out ushort length, out bool dataFin)
    {
        byte flags = data[1];
        longDsn = (flags & 0x08) != 0;
        dataFin = (flags & 0x10) != 0;
        dsn = 0;
        length = 0;
        if ((flags & 0x04) == 0)
            return false;
        int at = 2;
        if ((flags & 0x01) != 0)
            at += (flags & 0x02) != 0 ? 8 : 4;
        int need = at + (longDsn ? 8 : 4) + 4 + 2;
        if (data.Length < need)
            return false;
        dsn = longDsn ? BinaryPrimitives.ReadUInt64BigEndian(data[at..]) : BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
        at += longDsn ? 8 : 4;
        length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 4)..]);
        return true;
    }
}
