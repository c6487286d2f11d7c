using TcpExposure.Responder.Probe;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// The probe's progress on stderr: on a terminal one line rewritten in place (test, run, result
/// code); redirected to a file or a pipe, where a carriage return would glue the updates into
/// one long line, a line per finished run.
/// </summary>
internal static class ProbeProgress
{
    /// <summary>A progress callback whose lines start with <paramref name="prefix"/>.</summary>
    public static Action<string, int, ProbeOutcome?> Create(string prefix)
    {
        if (!Console.IsErrorRedirected)
            return (test, run, outcome) => Console.Error.Write(outcome is { } o
                ? $"\r{prefix}{test} run {run}: {o.Code}                    "
                : $"\r{prefix}{test} run {run}...                    ");
        return (test, run, outcome) =>
        {
            if (outcome is { } o)
                Console.Error.WriteLine($"{prefix}{test} run {run}: {o.Code}");
        };
    }

    /// <summary>Ends the rewritten line on a terminal; nothing when redirected.</summary>
    public static void Finish()
    {
        if (!Console.IsErrorRedirected)
            Console.Error.WriteLine();
    }
}
