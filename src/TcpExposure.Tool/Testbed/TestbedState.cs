using System.Text.Json;

namespace TcpExposure.Tool.Testbed;

/// <summary>
/// What <c>testbed up</c> leaves behind for <c>exec</c> and <c>down</c>, which run as other
/// processes: the network's name and options, in <c>/run/tcpexposure/NAME.json</c> (a tmpfs, so
/// a reboot, which also removes the namespaces, removes it too).
/// </summary>
public sealed record TestbedState(string Name, TestNetworkOptions Options, int CreatorPid, DateTimeOffset Created)
{
    /// <summary>Where state files live.</summary>
    public static string Directory { get; set; } = "/run/tcpexposure";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The state file of network <paramref name="name"/>.</summary>
    public static string PathOf(string name) => Path.Combine(Directory, $"{name}.json");

    /// <summary>Writes this state (atomically: a temporary file renamed over the old one).</summary>
    public void Save()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = PathOf(Name), tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The state of network <paramref name="name"/>, or null when there is none or it is unreadable.</summary>
    public static TestbedState? Load(string name)
    {
        try
        {
            return JsonSerializer.Deserialize<TestbedState>(File.ReadAllText(PathOf(name)), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Removes the state file of <paramref name="name"/>; whether there was one.</summary>
    public static bool Delete(string name)
    {
        string path = PathOf(name);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        return true;
    }

    /// <summary>The names of every network with a state file.</summary>
    public static IEnumerable<string> All() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order()
            : [];
}
