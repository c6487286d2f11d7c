using CommandLine;
using TcpExposure.Tool.Commands;

namespace TcpExposure.Tool;

/// <summary>The <c>tcpexposure</c> command: one verb per job.</summary>
public static class Program
{
    /// <summary>Exit codes: 0 success, 1 failure, 2 bad usage.</summary>
    public static int Main(string[] args)
    {
        // A crash skips ProcessExit, where the clean-up registry removes our iptables rules and
        // namespaces; an unhandled exception on any thread runs it first.
        AppDomain.CurrentDomain.UnhandledException += (_, _) => TcpExposure.Craft.Transport.CleanupRegistry.RunAll();
        var parser = new Parser(s =>
        {
            s.HelpWriter = null;
            s.CaseInsensitiveEnumValues = true;
            s.AllowMultiInstance = true; // repeatable options: send --segment A --segment B
            s.EnableDashDash = true; // "testbed exec HOST -- CMD -x": everything after -- is the command
        });
        var result = parser.ParseArguments(args, CommandRegistry.Verbs);
        return result.MapResult(
            (ICommand cmd) => CommandRunner.Run(cmd, result),
            errors => CommandRunner.Usage(result, errors));
    }
}
