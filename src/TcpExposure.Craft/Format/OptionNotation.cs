using TcpExposure.Craft.Options;

namespace TcpExposure.Craft.Format;

/// <summary>Options in the packetdrill-style notation (<c>mss 512</c>, <c>sackOK</c>, <c>TS val 1 ecr 0</c>, ...).</summary>
public static class OptionNotation
{
    /// <summary>One option in notation form.</summary>
    public static string Format(TcpOption option) => option switch
    {
        MssOption m => $"mss {m.Value}",
        _ => $"kind {option.Kind} len {option.Length}",
    };
}
