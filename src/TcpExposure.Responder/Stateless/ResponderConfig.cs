using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Options;

namespace TcpExposure.Responder.Stateless;

/// <summary>
/// Every value the stateless responder puts on the wire. The defaults are the legacy
/// mptcp-server.py constants; the probe suite expects them unless told otherwise.
/// </summary>
public sealed class ResponderConfig
{
    private IPAddress? _address;
    private byte[] _addressBytes = [];

    /// <summary>The TCP port answered. 0 answers every port (useful only in tests).</summary>
    public ushort Port { get; init; }

    /// <summary>The address answered; null answers every destination address of either family.</summary>
    public IPAddress? Address
    {
        get => _address;
        init
        {
            _address = value;
            _addressBytes = value?.GetAddressBytes() ?? [];
        }
    }

    /// <summary><see cref="Address"/> as network-order bytes, computed once so the hot path does not allocate.</summary>
    internal ReadOnlySpan<byte> AddressBytes => _addressBytes;

    internal AddressFamily AddressFamily => _address?.AddressFamily ?? AddressFamily.Unspecified;

    /// <summary>Initial sequence number of every SYN-ACK (legacy 0xabcdef).</summary>
    public uint Isn { get; init; } = 0xabcdef;
    /// <summary>Advertised window of every answer (legacy 32768).</summary>
    public ushort Window { get; init; } = 32768;
    /// <summary>MSS option value in the SYN-ACK (legacy 512).</summary>
    public ushort Mss { get; init; } = 512;
    /// <summary>Window-scale shift in the SYN-ACK (legacy 6).</summary>
    public byte WindowScale { get; init; } = 6;
    /// <summary>Whether the SYN-ACK carries SACK_PERMITTED (legacy yes).</summary>
    public bool SackPermitted { get; init; } = true;
    /// <summary>IPv4 identification of every answer (legacy 0x4321).</summary>
    public ushort IpId { get; init; } = 0x4321;
    /// <summary>TTL / hop limit of every answer (legacy 255).</summary>
    public byte Ttl { get; init; } = 255;
    /// <summary>TSval in the timestamp echo (legacy 12345678).</summary>
    public uint TsVal { get; init; } = 12345678;
    /// <summary>Token of the legacy MP_CAPABLE echo (legacy 0x0D0C0B0A).</summary>
    public uint LegacyMpToken { get; init; } = 0x0D0C0B0A;
    /// <summary>IDSN of the legacy MP_CAPABLE echo (legacy 0x0102030405060000).</summary>
    public ulong LegacyMpIdsn { get; init; } = 0x0102030405060000;
    /// <summary>The responder's 64-bit key in an RFC 8684 MP_CAPABLE SYN-ACK.</summary>
    public ulong MptcpKey { get; init; } = 0x0A0B0C0D0E0F1011;
    /// <summary>The flags byte of an RFC 8684 MP_CAPABLE SYN-ACK (0x01: H, HMAC-SHA256, no checksums).</summary>
    public byte MptcpFlags { get; init; } = 0x01;
    /// <summary>The byte that pads the 0xa1 echo payload (legacy 0xAB).</summary>
    public byte EchoPad { get; init; } = 0xAB;
    /// <summary>
    /// The 0xa1 / 0xa3 / 0xc2 echo payload is padded with <see cref="EchoPad"/> up to a multiple of
    /// this many bytes (1 = no padding).
    /// </summary>
    public int EchoAlign { get; init; } = 4;
    /// <summary>
    /// Largest answer, IP header included. An echo that would be longer has the echoed data cut
    /// (then the headers); the default keeps answers within a 1500-byte MTU.
    /// </summary>
    public int MaxPacketLength { get; init; } = 1500;
    /// <summary>
    /// How to read kind 30 of length 14, which is both the draft MP_CAPABLE and an RFC 8684 DSS
    /// carrying only a mapping. Auto: a DSS when the subtype nibble says so, else the draft MP_CAPABLE.
    /// </summary>
    public MptcpDialect MptcpDialect { get; init; } = MptcpDialect.Auto;
    /// <summary>Drop segments whose TCP checksum is wrong, as a kernel would.</summary>
    public bool VerifyChecksum { get; init; } = true;
    private byte[] _httpStatusLine = "HTTP/1.1 200 OK"u8.ToArray();

    /// <summary>The status line of the 0xa3 answer (without CRLF).</summary>
    public string HttpStatusLine
    {
        get => System.Text.Encoding.ASCII.GetString(_httpStatusLine);
        init => _httpStatusLine = System.Text.Encoding.ASCII.GetBytes(value);
    }

    internal ReadOnlySpan<byte> HttpStatusLineBytes => _httpStatusLine;

    /// <summary>The legacy responder: everything at its default, answering <paramref name="port"/> on <paramref name="address"/>.</summary>
    public static ResponderConfig For(ushort port, IPAddress? address = null) => new() { Port = port, Address = address };
}
