using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Commands;

/// <summary>Runs a verb and maps failures to exit codes and one-sentence errors on stderr.</summary>
public static class CommandRunner
{
    /// <summary>
    /// Runs <paramref name="command"/>: a <see cref="UsageException"/> prints the message and the
    /// verb's usage (from <paramref name="parsed"/>) and exits 2; an expected failure (I/O, a
    /// refused socket operation, a bad state) prints its message and exits 1; anything else is a
    /// bug, printed whole, exit 1, after the clean-up registry has removed what we installed.
    /// </summary>
    public static int Run(ICommand command, ParserResult<object>? parsed = null)
    {
        try
        {
            return command.Execute();
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"tcpexposure: {e.Message}");
            string verb = command.GetType().GetCustomAttributes(typeof(VerbAttribute), false).OfType<VerbAttribute>().FirstOrDefault()?.Name ?? "VERB";
            if (parsed is not null)
                Console.Error.WriteLine(VerbHelp(parsed, verb));
            else
                Console.Error.WriteLine($"Run 'tcpexposure {verb} --help' for usage.");
            return 2;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or InvalidOperationException or ArgumentException
            or FormatException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Console.Error.WriteLine($"tcpexposure: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tcpexposure: unexpected error (a bug; please report it with this text): {e}");
            return 1;
        }
    }

    /// <summary>The usage of the verb that was parsed: its examples and options, without a heading.</summary>
    private static string VerbHelp(ParserResult<object> parsed, string verb)
    {
        var h = new HelpText { Heading = $"Usage of 'tcpexposure {verb}':", Copyright = "", AddDashesToOption = true, AdditionalNewLineAfterOption = false };
        string examples = HelpText.RenderUsageText(parsed);
        if (examples.Length > 0)
            h.AddPreOptionsLine(examples);
        h.AddOptions(parsed);
        return h;
    }

    /// <summary>
    /// Handles a command line that did not parse: prints the usage (with the parser's complaint above it)
    /// on stderr and returns 2, or, when --help or --version was asked for, prints it on stdout and returns 0.
    /// </summary>
    /// <param name="result">The failed parse, whose verb (if one was recognised) the usage describes.</param>
    /// <param name="errors">What the parser found wrong, or the help/version request.</param>
    /// <returns>The process exit code: 0 for help or version, 2 for bad usage.</returns>
    public static int Usage<T>(ParserResult<T> result, IEnumerable<Error> errors)
    {
        var list = errors.ToList();
        bool asked = list.Any(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError);
        var help = HelpText.AutoBuild(result, h =>
        {
            h.Heading = "tcpexposure — craft TCP segments, measure middleboxes, run a user-space TCP";
            h.Copyright = "";
            h.AddDashesToOption = true;
            h.AdditionalNewLineAfterOption = false;
            // Say what was wrong (a bad enum value, a missing required option) above the usage.
            return asked ? h : HelpText.DefaultParsingErrorsHandler(result, h);
        }, e => e, verbsIndex: true);
        if (asked)
        {
            Console.Out.WriteLine(help);
            return 0;
        }
        Console.Error.WriteLine(help);
        return 2;
    }
}
