using System.Reflection;
using CommandLine;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// Every verb of the command: each <see cref="ICommand"/> class in this assembly carrying a
/// <see cref="VerbAttribute"/>. Found by reflection so that adding a verb is adding one file.
/// </summary>
public static class CommandRegistry
{
    /// <summary>The verb classes, sorted by verb name, as handed to the command-line parser.</summary>
    public static readonly Type[] Verbs = typeof(CommandRegistry).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(ICommand).IsAssignableFrom(t) && t.GetCustomAttribute<VerbAttribute>() is not null)
        .OrderBy(t => t.GetCustomAttribute<VerbAttribute>()!.Name, StringComparer.Ordinal)
        .ToArray();
}
