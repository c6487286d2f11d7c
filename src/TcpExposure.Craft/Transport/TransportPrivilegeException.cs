namespace TcpExposure.Craft.Transport;

/// <summary>
/// Opening a raw or packet socket (or a live capture) was refused: the process lacks CAP_NET_RAW.
/// Derives from <see cref="UnauthorizedAccessException"/> so callers that map access errors keep working.
/// </summary>
public sealed class TransportPrivilegeException(string? detail = null, Exception? inner = null)
    : UnauthorizedAccessException(Sentence + (detail is null ? "" : $" ({detail})"), inner)
{
    /// <summary>The one sentence every raw-socket failure reports.</summary>
    public const string Sentence =
        "Sending and capturing raw packets needs CAP_NET_RAW: run as root, or grant it with `sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which dotnet))`.";
}
