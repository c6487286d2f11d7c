using System.Buffers.Binary;

namespace TcpExposure.Craft.Pcap;

/// <summary>Classic libpcap files: 24-byte file header, then 16-byte record headers (24 in the modified variant).</summary>
internal static class ClassicReader
{
    private const uint ModifiedMagic = 0xA1B2CD34;

    public static IEnumerable<PcapRecord> Read(PcapReader.Input input, byte[] magicBytes)
    {
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(magicBytes);
        uint be = BinaryPrimitives.ReadUInt32BigEndian(magicBytes);
        bool bigEndian;
        uint magic;
        if (le is PcapWriter.MicrosecondMagic or PcapWriter.NanosecondMagic or ModifiedMagic) { bigEndian = false; magic = le; }
        else if (be is PcapWriter.MicrosecondMagic or PcapWriter.NanosecondMagic or ModifiedMagic) { bigEndian = true; magic = be; }
        else throw new InvalidDataException($"Not a pcap or pcapng file: it starts with {PcapReader.Hex(magicBytes)} (pcap starts with a1b2c3d4 or a1b23c4d in either byte order, pcapng with 0a0d0d0a).");
        bool nano = magic == PcapWriter.NanosecondMagic;
        int recordHeader = magic == ModifiedMagic ? 24 : PcapWriter.RecordHeaderLength;

        var header = new byte[PcapWriter.FileHeaderLength - 4];
        int n = input.Fill(header);
        if (n < header.Length)
            throw new InvalidDataException($"The file is truncated: the pcap file header needs 24 bytes but the file has {4 + n}.");
        ushort major = U16(header, 0, bigEndian);
        ushort minor = U16(header, 2, bigEndian);
        if (major != 2)
            throw new InvalidDataException($"Unsupported pcap version {major}.{minor} (only 2.x exists).");
        var linkType = (LinkType)(U32(header, 16, bigEndian) & 0x03FFFFFF); // upper bits carry FCS information

        var rh = new byte[recordHeader];
        for (long index = 0; ; index++)
        {
            long start = input.Position;
            n = input.Fill(rh);
            if (n == 0)
                yield break;
            if (n < rh.Length)
                throw new InvalidDataException($"The file is truncated: record {index} at byte {start} has {n} of its {rh.Length} header bytes.");
            uint seconds = U32(rh, 0, bigEndian);
            uint fraction = U32(rh, 4, bigEndian);
            uint captured = U32(rh, 8, bigEndian);
            uint original = U32(rh, 12, bigEndian);
            if (captured > PcapReader.MaxCaptureLength)
                throw new InvalidDataException($"Record {index} at byte {start} claims {captured} captured bytes, more than the {PcapReader.MaxCaptureLength} accepted; the file is corrupt.");
            var data = input.ReadExactly((int)captured, $"record {index}", start);
            long subTicks = nano ? fraction / 100 : fraction * 10L;
            yield return new PcapRecord(PcapReader.FromUnix(seconds, subTicks, 0, start), linkType, data,
                original > int.MaxValue ? int.MaxValue : (int)original);
        }
    }

    private static ushort U16(byte[] b, int at, bool bigEndian)
        => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));

    private static uint U32(byte[] b, int at, bool bigEndian)
        => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
}
