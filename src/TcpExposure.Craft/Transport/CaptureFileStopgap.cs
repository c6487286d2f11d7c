using System.Buffers.Binary;

namespace TcpExposure.Craft.Transport;

// Stopgap until the pcap branch's PcapWriter is in main: the smallest classic pcap writer
// (nanosecond timestamps, LINKTYPE_RAW = 101, i.e. packets start at the IP header).
internal sealed class CaptureFileStopgap(Stream stream) : IDisposable
{
    private bool _headerWritten;

    public void Write(ReadOnlySpan<byte> packet, DateTimeOffset timestamp)
    {
        Span<byte> h = stackalloc byte[24];
        if (!_headerWritten)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0xA1B23C4D);
            BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
            BinaryPrimitives.WriteUInt64LittleEndian(h[8..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 262144);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 101);
            stream.Write(h);
            _headerWritten = true;
        }
        long ticks = timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(ticks / TimeSpan.TicksPerSecond));
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)packet.Length);
        stream.Write(h[..16]);
        stream.Write(packet);
    }

    public void Dispose() => stream.Flush();
}
