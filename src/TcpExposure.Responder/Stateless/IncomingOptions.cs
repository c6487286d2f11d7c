using System.Buffers.Binary;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Stateless;

/// <summary>
/// The options of an incoming segment the responder answers. The walk over the option space is
/// <see cref="TcpOptionSummary.Read"/>'s (one pass, no copies, malformed options ignored, the last
/// of a repeated option wins); this adds the responder's reading of MPTCP: which dialect a kind-30
/// option is, and the DSS mapping.
/// </summary>
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

    /// <summary>Reads the answered options of <paramref name="space"/>; never throws.</summary>
    public static IncomingOptions Read(ReadOnlySpan<byte> space, MptcpDialect dialect)
    {
        var summary = TcpOptionSummary.Read(space);
        bool lmc = false, dss = false, longDsn = false, dataFin = false;
        ushort dlen = 0;
        ulong dsn = 0;
        ReadOnlySpan<byte> mpc = default;
        // The first two kind-30 options (the most 40 bytes of option space hold in practice).
        for (int k = 0; k < 2; k++)
        {
            var o = summary.GetMptcpOption(space, k);
            if (o.IsEmpty)
                break;
            var data = o[2..];
            if (o.Length == 14 && IsLegacyCapable(data, dialect))
            {
                lmc = true;
                continue;
            }
            if (data.Length < 2)
                continue;
            int subtype = data[0] >> 4;
            if (subtype == 0 && mpc.IsEmpty)
                mpc = o;
            else if (subtype == 2 && !dss)
                dss = TryReadDss(data, out longDsn, out dsn, out dlen, out dataFin);
        }
        return new IncomingOptions
        {
            HasTimestamp = summary.HasTimestamps, TsVal = summary.TsValue, HasLegacyMpCapable = lmc,
            HasLegacyMpData = summary.HasLegacyMpData, LegacyDsn = summary.LegacyMpDsn, LegacyDataLength = summary.LegacyMpDataLength,
            RfcMpCapable = mpc, HasDssMapping = dss, DssLongDsn = longDsn, DssDsn = dsn, DssDataLength = dlen, DssDataFin = dataFin,
        };
    }

    // Kind 30 length 14 is either the draft MP_CAPABLE or an RFC 8684 DSS (mapping, no ack, no
    // checksum) or REMOVE_ADDR with 11 IDs: the same rule as the codec's TcpOptionParser.
    private static bool IsLegacyCapable(ReadOnlySpan<byte> data, MptcpDialect dialect) => dialect switch
    {
        MptcpDialect.Legacy => true,
        MptcpDialect.Rfc8684 => false,
        _ => (MptcpSubtype)(data[0] >> 4) is not (MptcpSubtype.Dss or MptcpSubtype.RemoveAddr),
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
