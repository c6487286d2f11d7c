using System.Buffers.Binary;

namespace TcpExposure.Craft.Tests.Pcap;

/// <summary>Hand-made pcapng in either byte order, for what editcap does not write (big-endian, tsresol, SPB).</summary>
internal sealed class PcapNgBuilder(bool bigEndian)
{
    private readonly MemoryStream _out = new();

    public byte[] ToArray() => _out.ToArray();

    public PcapNgBuilder Section() => Block(0x0A0D0D0A, b =>
    {
        U32(b, 0x1A2B3C4D);
        U16(b, 1);
        U16(b, 0);
        U64(b, ulong.MaxValue); // section length unknown
    });

    public PcapNgBuilder Interface(ushort linkType, uint snap = 0, byte? tsresol = null, long? tsoffset = null) => Block(1, b =>
    {
        U16(b, linkType);
        U16(b, 0);
        U32(b, snap);
        if (tsresol is { } r)
        {
            U16(b, 9); U16(b, 1); b.WriteByte(r); b.Write(new byte[3]);
        }
        if (tsoffset is { } o)
        {
            U16(b, 14); U16(b, 8); U64(b, (ulong)o);
        }
        if (tsresol is not null || tsoffset is not null)
        {
            U16(b, 0); U16(b, 0);
        }
    });

    public PcapNgBuilder Enhanced(uint iface, ulong units, byte[] data, uint? originalLength = null) => Block(6, b =>
    {
        U32(b, iface);
        U32(b, (uint)(units >> 32));
        U32(b, (uint)units);
        U32(b, (uint)data.Length);
        U32(b, originalLength ?? (uint)data.Length);
        Padded(b, data);
    });

    public PcapNgBuilder Simple(byte[] data, uint? originalLength = null) => Block(3, b =>
    {
        U32(b, originalLength ?? (uint)data.Length);
        Padded(b, data);
    });

    public PcapNgBuilder Unknown(uint type, int bodyLength) => Block(type, b => b.Write(new byte[bodyLength]));

    public PcapNgBuilder Block(uint type, Action<MemoryStream> body)
    {
        var b = new MemoryStream();
        body(b);
        uint total = (uint)(12 + b.Length);
        var w = _out;
        U32(w, type);
        U32(w, total);
        b.WriteTo(w);
        U32(w, total);
        return this;
    }

    public PcapNgBuilder RawBytes(byte[] bytes)
    {
        _out.Write(bytes);
        return this;
    }

    private static void Padded(MemoryStream b, byte[] data)
    {
        b.Write(data);
        b.Write(new byte[(4 - data.Length % 4) % 4]);
    }

    private void U16(MemoryStream s, ushort v)
    {
        Span<byte> t = stackalloc byte[2];
        if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(t, v); else BinaryPrimitives.WriteUInt16LittleEndian(t, v);
        s.Write(t);
    }

    private void U32(MemoryStream s, uint v)
    {
        Span<byte> t = stackalloc byte[4];
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(t, v); else BinaryPrimitives.WriteUInt32LittleEndian(t, v);
        s.Write(t);
    }

    private void U64(MemoryStream s, ulong v)
    {
        Span<byte> t = stackalloc byte[8];
        if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(t, v); else BinaryPrimitives.WriteUInt64LittleEndian(t, v);
        s.Write(t);
    }
}
