using System.Globalization;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Who created a leftover: a process id plus that process's start time (clock ticks since boot,
/// field 22 of <c>/proc/PID/stat</c>), so a later process that happens to get the same id is not
/// mistaken for the owner. Used to tag iptables rules and to decide, after a kill -9, which
/// leftovers belong to nobody any more.
/// </summary>
public static class ProcessIdentity
{
    private static readonly Lazy<string> CurrentTag = new(() => $"{Environment.ProcessId}:{StartTicks(Environment.ProcessId) ?? 0}");

    /// <summary>"PID:STARTTICKS" of this process.</summary>
    public static string Current => CurrentTag.Value;

    /// <summary>The start time of process <paramref name="pid"/> in clock ticks since boot; null if it does not exist.</summary>
    public static ulong? StartTicks(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces or ')'; count from the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : null;
    }

    /// <summary>Whether process <paramref name="pid"/> exists (any process, even a zombie).</summary>
    public static bool IsAlive(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}");

    /// <summary>
    /// Whether the owner named by a "PID:STARTTICKS" tag is still running. A tag whose start
    /// time is 0 (unknown) is judged by the PID alone. Malformed tags count as alive, so we never
    /// delete what we do not understand.
    /// </summary>
    public static bool IsOwnerAlive(string tag)
    {
        var parts = tag.Split(':');
        if (parts.Length < 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ||
            !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks))
            return true;
        ulong? now = StartTicks(pid);
        if (now is null)
            return IsAlive(pid);
        return ticks == 0 || now == ticks;
    }
}
