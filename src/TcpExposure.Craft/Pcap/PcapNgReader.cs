using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>
/// pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body, total length again.
/// A section header sets the byte order and forgets the interfaces of the previous section.
/// </summary>
internal static class PcapNgReader
{
    public const uint SectionHeaderType = 0x0A0D0D0A; // a palindrome, so readable before the byte order is known
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    private const uint InterfaceDescriptionType = 1;
    private const uint ObsoletePacketType = 2;
    private const uint SimplePacketType = 3;
    private const uint EnhancedPacketType = 6;
    private const ushort OptionEnd = 0;
    private const ushort OptionTsResol = 9;
    private const ushort OptionTsOffset = 14;

    private sealed record Interface(LinkType LinkType, uint SnapLength, ulong UnitsPerSecond, long OffsetSeconds);

    public static IEnumerable<PcapRecord> Read(PcapReader.Input input, byte[] first)
    {
        var interfaces = new List<Interface>();
        bool bigEndian = false;
        var head = new byte[8];
        first.CopyTo(head, 0);
        int have = 4; // the first block's type has been read already
        bool sawSection = false;
        while (true)
        {
            long start = input.Position - have;
            int n = input.Fill(head.AsSpan(have));
            if (n == 0 && have == 0)
                yield break;
            if (have + n < 8)
                throw new InvalidDataException($"The file is truncated: the pcapng block at byte {start} has {have + n} of its 8 header bytes.");
            have = 0;

            uint type = U32(head, 0, bigEndian);
            if (type == SectionHeaderType)
            {
                var bom = new byte[4];
                if (input.Fill(bom) < 4)
                    throw new InvalidDataException($"The file is truncated: the pcapng section header at byte {start} ends before its byte-order magic.");
                if (BinaryPrimitives.ReadUInt32LittleEndian(bom) == ByteOrderMagic) bigEndian = false;
                else if (BinaryPrimitives.ReadUInt32BigEndian(bom) == ByteOrderMagic) bigEndian = true;
                else throw new InvalidDataException($"The pcapng section header at byte {start} has byte-order magic {PcapReader.Hex(bom)}, not 1a2b3c4d in either order; the file is corrupt.");
                uint shbLength = CheckLength(U32(head, 4, bigEndian), start, 28);
                var rest = input.ReadExactly((int)shbLength - 12, "the pcapng section header", start);
                CheckTrailer(rest, shbLength, bigEndian, start);
                ushort major = U16(rest, 0, bigEndian);
                if (major != 1)
                    throw new InvalidDataException($"The pcapng section at byte {start} has version {major}.{U16(rest, 2, bigEndian)}; only 1.x is defined.");
                interfaces.Clear();
                sawSection = true;
                continue;
            }
            if (!sawSection)
                throw new InvalidDataException("Not a pcapng file: it does not start with a section header block.");

            uint length = CheckLength(U32(head, 4, bigEndian), start, 12);
            var body = input.ReadExactly((int)length - 8, $"the pcapng block of type {type}", start);
            CheckTrailer(body, length, bigEndian, start);
            var content = body.AsMemory(0, body.Length - 4);

            switch (type)
            {
                case InterfaceDescriptionType:
                    interfaces.Add(ReadInterface(content.Span, bigEndian, start));
                    break;
                case EnhancedPacketType:
                    yield return ReadEnhanced(content, bigEndian, interfaces, start);
                    break;
                case SimplePacketType:
                    yield return ReadSimple(content, bigEndian, interfaces, start);
                    break;
                case ObsoletePacketType:
                    yield return ReadObsolete(content, bigEndian, interfaces, start);
                    break;
                default:
                    break; // name resolution, statistics, custom and unknown blocks carry no packets
            }
        }
    }

    private static Interface ReadInterface(ReadOnlySpan<byte> b, bool bigEndian, long start)
    {
        if (b.Length < 8)
            throw new InvalidDataException($"The pcapng interface description at byte {start} is {b.Length + 12} bytes, shorter than its fixed 20.");
        var linkType = (LinkType)U16(b, 0, bigEndian);
        uint snap = U32(b, 4, bigEndian);
        ulong units = 1_000_000;
        long offset = 0;
        var opts = b[8..];
        while (opts.Length >= 4)
        {
            ushort code = U16(opts, 0, bigEndian);
            ushort len = U16(opts, 2, bigEndian);
            if (code == OptionEnd)
                break;
            int padded = (len + 3) & ~3;
            if (4 + padded > opts.Length)
                throw new InvalidDataException($"The pcapng interface description at byte {start} has option {code} of {len} bytes running past the block.");
            var value = opts.Slice(4, len);
            if (code == OptionTsResol && len >= 1)
                units = UnitsPerSecond(value[0], start);
            else if (code == OptionTsOffset && len >= 8)
                offset = bigEndian ? BinaryPrimitives.ReadInt64BigEndian(value) : BinaryPrimitives.ReadInt64LittleEndian(value);
            opts = opts[(4 + padded)..];
        }
        return new Interface(linkType, snap, units, offset);
    }

    private static ulong UnitsPerSecond(byte tsresol, long start)
    {
        int exponent = tsresol & 0x7F;
        bool binary = (tsresol & 0x80) != 0;
        if (binary ? exponent > 63 : exponent > 19)
            throw new InvalidDataException($"The pcapng interface description at byte {start} has if_tsresol 0x{tsresol:x2}, finer than 64-bit timestamps can count.");
        if (binary)
            return 1UL << exponent;
        ulong u = 1;
        for (int i = 0; i < exponent; i++) u *= 10;
        return u;
    }

    private static PcapRecord ReadEnhanced(ReadOnlyMemory<byte> m, bool bigEndian, List<Interface> interfaces, long start)
    {
        var b = m.Span;
        if (b.Length < 20)
            throw new InvalidDataException($"The pcapng enhanced packet block at byte {start} is shorter than its fixed 32 bytes.");
        var itf = Find(interfaces, U32(b, 0, bigEndian), start);
        ulong units = ((ulong)U32(b, 4, bigEndian) << 32) | U32(b, 8, bigEndian);
        uint captured = U32(b, 12, bigEndian);
        uint original = U32(b, 16, bigEndian);
        if (captured > b.Length - 20)
            throw new InvalidDataException($"The pcapng enhanced packet block at byte {start} claims {captured} captured bytes but holds {b.Length - 20}.");
        return new PcapRecord(Time(itf, units, start), itf.LinkType, m.Slice(20, (int)captured), ClampLength(original));
    }

    private static PcapRecord ReadSimple(ReadOnlyMemory<byte> m, bool bigEndian, List<Interface> interfaces, long start)
    {
        var b = m.Span;
        if (b.Length < 4)
            throw new InvalidDataException($"The pcapng simple packet block at byte {start} is shorter than its fixed 16 bytes.");
        var itf = Find(interfaces, 0, start);
        uint original = U32(b, 0, bigEndian);
        // The captured length is implicit: the original length, cut to the snap length and to what the block holds.
        long captured = Math.Min(original, (long)b.Length - 4);
        if (itf.SnapLength != 0)
            captured = Math.Min(captured, itf.SnapLength);
        // A simple packet block has no timestamp.
        return new PcapRecord(DateTimeOffset.UnixEpoch, itf.LinkType, m.Slice(4, (int)captured), ClampLength(original));
    }

    private static PcapRecord ReadObsolete(ReadOnlyMemory<byte> m, bool bigEndian, List<Interface> interfaces, long start)
    {
        var b = m.Span;
        if (b.Length < 20)
            throw new InvalidDataException($"The pcapng packet block at byte {start} is shorter than its fixed 32 bytes.");
        var itf = Find(interfaces, U16(b, 0, bigEndian), start);
        ulong units = ((ulong)U32(b, 4, bigEndian) << 32) | U32(b, 8, bigEndian);
        uint captured = U32(b, 12, bigEndian);
        uint original = U32(b, 16, bigEndian);
        if (captured > b.Length - 20)
            throw new InvalidDataException($"The pcapng packet block at byte {start} claims {captured} captured bytes but holds {b.Length - 20}.");
        return new PcapRecord(Time(itf, units, start), itf.LinkType, m.Slice(20, (int)captured), ClampLength(original));
    }

    private static Interface Find(List<Interface> interfaces, uint id, long start)
    {
        if (id >= interfaces.Count)
            throw new InvalidDataException($"The pcapng packet at byte {start} names interface {id}, but the section describes {interfaces.Count}.");
        return interfaces[(int)id];
    }

    private static DateTimeOffset Time(Interface itf, ulong units, long start)
    {
        ulong seconds = units / itf.UnitsPerSecond;
        ulong rest = units % itf.UnitsPerSecond;
        long subTicks = (long)((UInt128)rest * TimeSpan.TicksPerSecond / itf.UnitsPerSecond);
        return PcapReader.FromUnix(seconds, subTicks, itf.OffsetSeconds, start);
    }

    private static uint CheckLength(uint length, long start, uint minimum)
    {
        if (length < minimum || length % 4 != 0)
            throw new InvalidDataException($"The pcapng block at byte {start} has total length {length}; it must be a multiple of 4 and at least {minimum}.");
        if (length > PcapReader.MaxCaptureLength)
            throw new InvalidDataException($"The pcapng block at byte {start} claims {length} bytes, more than the {PcapReader.MaxCaptureLength} accepted; the file is corrupt.");
        return length;
    }

    private static void CheckTrailer(byte[] rest, uint length, bool bigEndian, long start)
    {
        uint trailer = U32(rest, rest.Length - 4, bigEndian);
        if (trailer != length)
            throw new InvalidDataException($"The pcapng block at byte {start} starts with total length {length} but ends with {trailer}; the file is corrupt.");
    }

    private static int ClampLength(uint length) => length > int.MaxValue ? int.MaxValue : (int)length;

    private static ushort U16(ReadOnlySpan<byte> b, int at, bool bigEndian)
        => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at, bool bigEndian)
        => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
}
