namespace TcpExposure.Craft.Wire;

/// <summary>
/// The nine TCP flag bits, in their wire positions within the 16-bit word that also holds the
/// data offset (bit 8 is NS, since RFC 9768 called AE, "Accurate ECN").
/// </summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x001,
    Syn = 0x002,
    Rst = 0x004,
    Psh = 0x008,
    Ack = 0x010,
    Urg = 0x020,
    Ece = 0x040,
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
