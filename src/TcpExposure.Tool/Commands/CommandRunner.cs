using CommandLine;
using CommandLine.Text;

namespace TcpExposure.Tool.Commands;

/// <summary>Runs a verb and maps failures to exit codes and one-sentence errors on stderr.</summary>
public static class CommandRunner
{
    public static int Run(ICommand command)
    {
        try
        {
            return command.Execute();
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"tcpexposure: {e.Message}");
            Console.Error.WriteLine("Run 'tcpexposure help' or 'tcpexposure VERB --help' for usage.");
            return 2;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied })
        {
            Console.Error.WriteLine($"tcpexposure: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"tcpexposure: {e.Message}");
            return 1;
        }
    }

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
