using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Craft.Options;

/// <summary>How to read kind 30 when its length fits the legacy draft MP_CAPABLE (14 bytes).</summary>
public enum MptcpDialect : byte
{
    /// <summary>RFC 8684 when the subtype nibble allows a 14-byte RFC form (DSS, REMOVE_ADDR); the legacy form otherwise.</summary>
    Auto,
    /// <summary>Always RFC 8684.</summary>
    Rfc8684,
    /// <summary>Kind 30 of length 14 is the legacy draft MP_CAPABLE.</summary>
    Legacy,
}

/// <summary>
/// Turns option bytes into typed <see cref="TcpOption"/> values. Never throws: a broken option
/// becomes a <see cref="MalformedOption"/>, and an option whose bytes a typed value would not
/// reproduce exactly (reserved bits set, say) becomes a <see cref="RawOption"/>, so parse then
/// encode always gives back the same bytes.
/// </summary>
public static class TcpOptionParser
{
    /// <summary>Parses a whole option space.</summary>
    public static ImmutableArray<TcpOption> Parse(ReadOnlySpan<byte> optionSpace, MptcpDialect dialect = MptcpDialect.Auto)
    {
        if (optionSpace.IsEmpty)
            return [];
        var list = ImmutableArray.CreateBuilder<TcpOption>();
        foreach (var view in new TcpOptionEnumerator(optionSpace))
            list.Add(FromView(view, dialect));
        return list.ToImmutable();
    }

    /// <summary>The typed value of one option view.</summary>
    public static TcpOption FromView(in TcpOptionView v, MptcpDialect dialect = MptcpDialect.Auto)
    {
        if (v.Problem is not OptionProblem.None and not OptionProblem.BadLength)
            return new MalformedOption(v.Kind, v.DeclaredLength, v.Data.ToArray(), v.Problem);
        if (v.Kind == TcpOptionKind.EndOfOptionList)
            return v.Data.IsEmpty ? EndOfOptionListOption.Instance : new EndOfOptionListOption { Trailer = v.Data.ToArray() };
        if (v.Kind == TcpOptionKind.NoOperation)
            return NopOption.Instance;
        if (v.Problem == OptionProblem.BadLength)
            return new MalformedOption(v.Kind, v.DeclaredLength, v.Data.ToArray(), v.Problem);

        TcpOption? typed = Typed(v.Kind, v.Data, dialect);
        if (typed is null || !Reproduces(typed, v))
            return new RawOption(v.Kind, v.Data.ToArray());
        return typed;
    }

    private static bool Reproduces(TcpOption typed, in TcpOptionView v)
    {
        if (typed.Length != 2 + v.Data.Length)
            return false;
        Span<byte> buf = stackalloc byte[typed.Length];
        typed.Write(buf);
        return buf[0] == v.Kind && buf[1] == v.DeclaredLength && buf[2..].SequenceEqual(v.Data);
    }

    private static TcpOption? Typed(byte kind, ReadOnlySpan<byte> d, MptcpDialect dialect) => kind switch
    {
        TcpOptionKind.MaximumSegmentSize => new MssOption(BinaryPrimitives.ReadUInt16BigEndian(d)),
        TcpOptionKind.WindowScale => new WindowScaleOption(d[0]),
        TcpOptionKind.SackPermitted => SackPermittedOption.Instance,
        TcpOptionKind.Sack => new SackOption(ReadSackBlocks(d)),
        TcpOptionKind.Timestamps => new TimestampsOption(BinaryPrimitives.ReadUInt32BigEndian(d), BinaryPrimitives.ReadUInt32BigEndian(d[4..])),
        TcpOptionKind.Md5Signature => new Md5SignatureOption(d.ToArray()),
        TcpOptionKind.TcpAuthentication => new TcpAoOption(d[0], d[1], d[2..].ToArray()),
        TcpOptionKind.Mptcp => Mptcp(d, dialect),
        TcpOptionKind.LegacyMpData => new LegacyMpDataOption(BinaryPrimitives.ReadUInt32BigEndian(d),
            BinaryPrimitives.ReadUInt16BigEndian(d[4..]), BinaryPrimitives.ReadUInt32BigEndian(d[6..])),
        TcpOptionKind.LegacyMpAck => new LegacyMpAckOption(BinaryPrimitives.ReadUInt32BigEndian(d)),
        TcpOptionKind.FastOpen => new FastOpenOption(d.ToArray()),
        TcpOptionKind.Experimental1 or TcpOptionKind.Experimental2 =>
            new ExperimentalOption(kind, BinaryPrimitives.ReadUInt16BigEndian(d), d[2..].ToArray()),
        _ => null,
    };

    private static ImmutableArray<SackBlock> ReadSackBlocks(ReadOnlySpan<byte> d)
    {
        var blocks = new SackBlock[d.Length / 8];
        for (int i = 0; i < blocks.Length; i++)
            blocks[i] = new SackBlock(BinaryPrimitives.ReadUInt32BigEndian(d[(i * 8)..]), BinaryPrimitives.ReadUInt32BigEndian(d[(i * 8 + 4)..]));
        return ImmutableArray.Create(blocks);
    }

    private static TcpOption? Mptcp(ReadOnlySpan<byte> d, MptcpDialect dialect)
    {
        var subtype = (MptcpSubtype)(d[0] >> 4);
        // RFC 8684 forms 14 bytes long are DSS (4-byte DSN, no ACK) and REMOVE_ADDR with 11 IDs.
        if (d.Length == 12 && (dialect == MptcpDialect.Legacy
            || (dialect == MptcpDialect.Auto && subtype is not MptcpSubtype.Dss and not MptcpSubtype.RemoveAddr)))
            return new LegacyMpCapableOption(BinaryPrimitives.ReadUInt32BigEndian(d), BinaryPrimitives.ReadUInt64BigEndian(d[4..]));
        int low = d[0] & 0x0F;
        switch (subtype)
        {
            case MptcpSubtype.MpCapable when d.Length is 2 or 10 or 18 or 20 or 22:
                return new MpCapableOption((byte)low, d[1],
                    d.Length >= 10 ? BinaryPrimitives.ReadUInt64BigEndian(d[2..]) : null,
                    d.Length >= 18 ? BinaryPrimitives.ReadUInt64BigEndian(d[10..]) : null,
                    d.Length >= 20 ? BinaryPrimitives.ReadUInt16BigEndian(d[18..]) : null,
                    d.Length >= 22 ? BinaryPrimitives.ReadUInt16BigEndian(d[20..]) : null);
            case MptcpSubtype.MpJoin when d.Length == 10:
                return new MpJoinSynOption((low & 1) != 0, d[1], BinaryPrimitives.ReadUInt32BigEndian(d[2..]), BinaryPrimitives.ReadUInt32BigEndian(d[6..]));
            case MptcpSubtype.MpJoin when d.Length == 14:
                return new MpJoinSynAckOption((low & 1) != 0, d[1], BinaryPrimitives.ReadUInt64BigEndian(d[2..]), BinaryPrimitives.ReadUInt32BigEndian(d[10..]));
            case MptcpSubtype.MpJoin when d.Length == 22:
                return new MpJoinAckOption(d[2..].ToArray());
            case MptcpSubtype.Dss:
                return Dss(d);
            case MptcpSubtype.AddAddr:
                return AddAddr(d);
            case MptcpSubtype.RemoveAddr when d.Length >= 2:
                return new RemoveAddrOption(ImmutableArray.Create(d[1..].ToArray()));
            case MptcpSubtype.MpPrio when d.Length is 1 or 2:
                return new MpPrioOption((low & 1) != 0, d.Length == 2 ? d[1] : null);
            case MptcpSubtype.MpFail when d.Length == 10:
                return new MpFailOption(BinaryPrimitives.ReadUInt64BigEndian(d[2..]));
            case MptcpSubtype.MpFastClose when d.Length == 10:
                return new MpFastCloseOption(BinaryPrimitives.ReadUInt64BigEndian(d[2..]));
            case MptcpSubtype.MpTcpRst when d.Length == 2:
                return new MpTcpRstOption((byte)low, d[1]);
            default:
                return null;
        }
    }

    private static DssOption? Dss(ReadOnlySpan<byte> d)
    {
        if (d.Length < 2)
            return null;
        byte f = d[1];
        bool hasAck = (f & 0x01) != 0, ack64 = (f & 0x02) != 0, hasMap = (f & 0x04) != 0, dsn64 = (f & 0x08) != 0;
        int at = 2;
        ulong? ack = null;
        if (hasAck)
        {
            int n = ack64 ? 8 : 4;
            if (d.Length < at + n) return null;
            ack = ack64 ? BinaryPrimitives.ReadUInt64BigEndian(d[at..]) : BinaryPrimitives.ReadUInt32BigEndian(d[at..]);
            at += n;
        }
        if (!hasMap)
            return at == d.Length ? new DssOption { DataFin = (f & 0x10) != 0, DataAck = ack, DataAck64 = ack64 } : null;
        int m = dsn64 ? 8 : 4;
        if (d.Length < at + m + 6) return null;
        ulong dsn = dsn64 ? BinaryPrimitives.ReadUInt64BigEndian(d[at..]) : BinaryPrimitives.ReadUInt32BigEndian(d[at..]);
        at += m;
        uint ssn = BinaryPrimitives.ReadUInt32BigEndian(d[at..]);
        ushort len = BinaryPrimitives.ReadUInt16BigEndian(d[(at + 4)..]);
        at += 6;
        ushort? csum = null;
        if (d.Length == at + 2) { csum = BinaryPrimitives.ReadUInt16BigEndian(d[at..]); at += 2; }
        if (at != d.Length) return null;
        return new DssOption { DataFin = (f & 0x10) != 0, DataAck = ack, DataAck64 = ack64, Dsn = dsn, Dsn64 = dsn64, SubflowSeq = ssn, DataLevelLength = len, Checksum = csum };
    }

    private static AddAddrOption? AddAddr(ReadOnlySpan<byte> d)
    {
        bool echo = (d[0] & 1) != 0;
        // Data lengths: 2 + address (4|16) + port (0|2) + HMAC (8 unless echo).
        int rest = d.Length - 2 - (echo ? 0 : 8);
        int addrLen = rest switch { 4 or 6 => 4, 16 or 18 => 16, _ => -1 };
        if (addrLen < 0 || d.Length < 2)
            return null;
        var addr = new IPAddress(d.Slice(2, addrLen));
        int at = 2 + addrLen;
        ushort? port = null;
        if (rest - addrLen == 2) { port = BinaryPrimitives.ReadUInt16BigEndian(d[at..]); at += 2; }
        ulong? hmac = echo ? null : BinaryPrimitives.ReadUInt64BigEndian(d[at..]);
        return new AddAddrOption(echo, d[1], addr, port, hmac);
    }
}
