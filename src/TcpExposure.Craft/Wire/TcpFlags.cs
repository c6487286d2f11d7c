namespace TcpExposure.Craft.Wire;

/// <summary>
/// The nine TCP flag bits, in their wire positions within the 16-bit word that also holds the
/// data offset (bit 8 is NS, since RFC 9768 called AE, "Accurate ECN").
/// </summary>
[Flags]
public enum TcpFlags : ushort
{
    /// <summary>No flag set.</summary>
    None = 0,
    /// <summary>FIN: the sender has no more data.</summary>
    Fin = 0x001,
    /// <summary>SYN: synchronize sequence numbers; opens a connection.</summary>
    Syn = 0x002,
    /// <summary>RST: reset the connection.</summary>
    Rst = 0x004,
    /// <summary>PSH: deliver buffered data to the application now.</summary>
    Psh = 0x008,
    /// <summary>ACK: the acknowledgment field is valid.</summary>
    Ack = 0x010,
    /// <summary>URG: the urgent pointer is valid.</summary>
    Urg = 0x020,
    /// <summary>ECE: ECN echo, a congestion mark was received (RFC 3168); with CWR on a SYN, ECN setup.</summary>
    Ece = 0x040,
    /// <summary>CWR: the sender reduced its congestion window (RFC 3168).</summary>
    Cwr = 0x080,
    /// <summary>NS (RFC 3540), reassigned as AE by Accurate ECN.</summary>
    Ae = 0x100,
    /// <summary>Alias of <see cref="Ae"/>.</summary>
    Ns = Ae,
}

/// <summary>Small helpers over <see cref="TcpFlags"/>.</summary>
public static class TcpFlagsExtensions
{
    /// <summary>True when every flag of <paramref name="mask"/> is set.</summary>
    public static bool Has(this TcpFlags flags, TcpFlags mask) => (flags & mask) == mask;

    /// <summary>Sequence space the flags consume: one for SYN, one for FIN.</summary>
    public static int SequenceLength(this TcpFlags flags)
        => ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
}
