namespace TcpExposure.Craft.Wire;

/// <summary>TCP option kinds this library knows by name (IANA "TCP Option Kind Numbers").</summary>
public static class TcpOptionKind
{
    /// <summary>End of option list (RFC 9293); the rest of the option space is padding.</summary>
    public const byte EndOfOptionList = 0;
    /// <summary>No-operation, one byte of padding between options.</summary>
    public const byte NoOperation = 1;
    /// <summary>Maximum segment size (RFC 9293 3.7.1), length 4.</summary>
    public const byte MaximumSegmentSize = 2;
    /// <summary>Window scale (RFC 7323 2), length 3.</summary>
    public const byte WindowScale = 3;
    /// <summary>SACK permitted (RFC 2018), length 2, SYN only.</summary>
    public const byte SackPermitted = 4;
    /// <summary>Selective acknowledgment blocks (RFC 2018).</summary>
    public const byte Sack = 5;
    /// <summary>Timestamps TSval/TSecr (RFC 7323 3), length 10.</summary>
    public const byte Timestamps = 8;
    /// <summary>TCP MD5 signature (RFC 2385), length 18.</summary>
    public const byte Md5Signature = 19;
    /// <summary>TCP Authentication Option (RFC 5925).</summary>
    public const byte TcpAuthentication = 29;
    /// <summary>Multipath TCP (RFC 8684). The pre-RFC draft used 30 for its MP_CAPABLE too.</summary>
    public const byte Mptcp = 30;
    /// <summary>Pre-RFC MPTCP draft MP_DATA, as used by the legacy TCPExposure tools.</summary>
    public const byte LegacyMpData = 31;
    /// <summary>Pre-RFC MPTCP draft MP_ACK, as used by the legacy TCPExposure tools.</summary>
    public const byte LegacyMpAck = 32;
    /// <summary>TCP Fast Open cookie (RFC 7413).</summary>
    public const byte FastOpen = 34;
    /// <summary>Experimental kind 253 (RFC 4727), shared between experiments through an ExID (RFC 6994).</summary>
    public const byte Experimental1 = 253;
    /// <summary>Experimental kind 254 (RFC 4727), shared between experiments through an ExID (RFC 6994).</summary>
    public const byte Experimental2 = 254;

    /// <summary>The most option bytes a TCP header can carry (data offset 15).</summary>
    public const int MaxOptionSpace = 40;
}
