using System.Diagnostics;
using System.Text.RegularExpressions;
using CommandLine;
using CommandLine.Text;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Commands;

/// <summary>
/// <c>tcpexposure script FILE.py [ARGS]</c>: runs a (legacy TCPExposure) Python script with the
/// bridge set up: PYTHONPATH holds python/ (tcplib, tcpsrlib, tcpsrplib, pcaplib, tcpexposure),
/// TCPEXPOSURE_HOME this build, and Python 2-era syntax is converted in memory by
/// <c>python -m tcpexposure.run</c>; the file itself is never changed.
/// </summary>
[Verb("script", HelpText = "Run a Python script (legacy TCPExposure scripts too, Python 2 syntax converted in memory) against this library.")]
public sealed partial class ScriptCommand : ICommand
{
    /// <summary>FILE: the Python script to run (Python 3, or legacy Python 2 converted in memory; the file is not changed).</summary>
    [Value(0, MetaName = "FILE", Required = true, HelpText = "The Python script.")]
    public string File { get; set; } = "";

    /// <summary>ARGS: the arguments passed on to the script (put -- before them when they start with -).</summary>
    [Value(1, MetaName = "ARGS", HelpText = "Arguments for the script (put -- before them when they start with -).")]
    public IEnumerable<string> Arguments { get; set; } = [];

    /// <summary>--python: the Python 3 interpreter to run; null means /usr/bin/python3 if present, else python3 on PATH.</summary>
    [Option("python", HelpText = "The Python 3 interpreter (default: /usr/bin/python3, else python3 on PATH).")]
    public string? Python { get; set; }

    /// <summary>--show-converted: print the Python 3 text of a converted Python 2 script on stderr before running it.</summary>
    [Option("show-converted", HelpText = "Print the Python 3 text of a converted Python 2 script on stderr before running it.")]
    public bool ShowConverted { get; set; }

    /// <summary>The example invocations shown by <c>tcpexposure script --help</c>.</summary>
    [Usage(ApplicationAlias = "tcpexposure")]
    public static IEnumerable<Example> Examples =>
    [
        new("Run the legacy example against a host", new ScriptCommand { File = "examples/example.py", Arguments = ["10.0.0.2", "80"] }),
    ];

    /// <inheritdoc/>
    public int Execute()
    {
        if (!System.IO.File.Exists(File))
            throw new UsageException($"Script '{File}' does not exist.");
        string pythonDir = FindPythonModules() ?? throw new InvalidOperationException(
            "The python/ modules (tcpsrlib.py ...) were not found next to this build; set TCPEXPOSURE_HOME to the repository or run scripts/setup.sh.");
        string python = Python ?? (System.IO.File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

        if (NeedsRawSockets(System.IO.File.ReadAllText(File)) && !Privileges.Has(Capability.NetRaw))
            Console.Error.WriteLine("script: warning: this script sends or captures packets, which needs CAP_NET_RAW: run as root, "
                + $"or grant it to the interpreter with `sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f {python})`.");

        var start = new ProcessStartInfo(python) { UseShellExecute = false };
        start.ArgumentList.Add("-m");
        start.ArgumentList.Add("tcpexposure.run");
        start.ArgumentList.Add(File);
        foreach (var a in Arguments)
            start.ArgumentList.Add(a);
        string? existing = Environment.GetEnvironmentVariable("PYTHONPATH");
        start.Environment["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? pythonDir : pythonDir + Path.PathSeparator + existing;
        start.Environment["TCPEXPOSURE_HOME"] = AppContext.BaseDirectory;
        if (ShowConverted)
            start.Environment["TCPEXPOSURE_SHOW_CONVERTED"] = "1";
        Process child;
        try
        {
            child = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {python}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot start the Python interpreter '{python}' ({e.Message}); install python3 or pass --python.");
        }
        using (child)
        {
            // Ctrl-C reaches the script through the terminal's process group; we wait for it to clean up.
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGINT, c => c.Cancel = true);
            child.WaitForExit();
            return child.ExitCode;
        }
    }

    /// <summary>Whether a script's text calls something that needs CAP_NET_RAW.</summary>
    internal static bool NeedsRawSockets(string source) => RawUse().IsMatch(source);

    [GeneratedRegex(@"\b(send_segments|sendrecv_segments|Pcap_open_live|sendrecv|send)\s*\(")]
    private static partial Regex RawUse();

    /// <summary>The python/ directory: under $TCPEXPOSURE_HOME, or found walking up from this build.</summary>
    internal static string? FindPythonModules()
    {
        var starts = new List<string>();
        if (Environment.GetEnvironmentVariable("TCPEXPOSURE_HOME") is { Length: > 0 } home)
            starts.Add(home);
        starts.Add(AppContext.BaseDirectory);
        foreach (var s in starts)
        {
            for (var dir = new DirectoryInfo(s); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "python");
                if (System.IO.File.Exists(Path.Combine(candidate, "tcpsrlib.py")))
                    return candidate;
            }
        }
        return null;
    }
}
