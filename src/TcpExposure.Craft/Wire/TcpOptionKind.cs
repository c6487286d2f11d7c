namespace TcpExposure.Craft.Wire;

/// <summary>TCP option kinds this library knows by name (IANA "TCP Option Kind Numbers").</summary>
public static class TcpOptionKind
{
    public const byte EndOfOptionList = 0;
    public const byte NoOperation = 1;
    public const byte MaximumSegmentSize = 2;
    public const byte WindowScale = 3;
    public const byte SackPermitted = 4;
    public const byte Sack = 5;
    public const byte Timestamps = 8;
    public const byte Md5Signature = 19;
    public const byte TcpAuthentication = 29;
    /// <summary>Multipath TCP (RFC 8684). The pre-RFC draft used 30 for its MP_CAPABLE too.</summary>
    public const byte Mptcp = 30;
    /// <summary>Pre-RFC MPTCP draft MP_DATA, as used by the legacy TCPExposure tools.</summary>
    public const byte LegacyMpData = 31;
    /// <summary>Pre-RFC MPTCP draft MP_ACK, as used by the legacy TCPExposure tools.</summary>
    public const byte LegacyMpAck = 32;
    public const byte FastOpen = 34;
    public const byte Experimental1 = 253;
    public const byte Experimental2 = 254;

    /// <summary>The most option bytes a TCP header can carry (data offset 15).</summary>
    public const int MaxOptionSpace = 40;
}
