namespace TcpExposure.Craft.Transport;

/// <summary>Linux network interface names (IFNAMSIZ and dev_valid_name's rules).</summary>
public static class NetworkInterfaceName
{
    /// <summary>The longest name the kernel takes: IFNAMSIZ (16) less the terminating NUL.</summary>
    public const int MaxLength = 15;

    /// <summary>
    /// Whether the kernel could have an interface of this name: 1 to 15 ASCII characters, not "."
    /// or "..", and no '/', ':' or white space (net/core/dev.c dev_valid_name).
    /// </summary>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name is not ("." or "..")
        && name.All(c => char.IsAscii(c) && c > ' ' && c is not ('/' or ':') && c != '\x7f');
}
