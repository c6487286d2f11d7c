namespace TcpExposure.Tool.Commands;

/// <summary>Every verb of the command; add new verbs here.</summary>
public static class CommandRegistry
{
    public static readonly Type[] Verbs =
    [
        typeof(DemoCommand),
        typeof(TestbedCommand),
        typeof(RstGuardCommand),
        typeof(CraftCommand),
    ];
}
