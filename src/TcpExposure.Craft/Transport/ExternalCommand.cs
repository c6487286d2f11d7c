using System.Diagnostics;

namespace TcpExposure.Craft.Transport;

/// <summary>What an external command printed and how it ended.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public readonly record struct CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Whether it exited with 0.</summary>
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the system tools this toolkit drives (<c>ip</c>, <c>iptables</c>), optionally inside a
/// network namespace through <c>ip netns exec</c>. Arguments are passed as a vector, never
/// through a shell.
/// </summary>
public static class ExternalCommand
{
    private static readonly string[] SystemDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

    /// <summary>
    /// The full path of <paramref name="program"/> found on PATH or in the usual sbin directories
    /// (an unprivileged PATH often lacks them); null when it is not installed.
    /// </summary>
    public static string? Find(string program)
    {
        if (program.Contains('/'))
            return File.Exists(program) ? program : null;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemDirectories);
        foreach (var dir in dirs)
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// The full path of <paramref name="program"/>, or an <see cref="InvalidOperationException"/>
    /// saying which package to install; <paramref name="purpose"/> says what needs it.
    /// </summary>
    public static string Require(string program, string package, string purpose) =>
        Find(program) ?? throw new InvalidOperationException(
            $"{purpose} needs the '{program}' command, which is not installed: install the {package} package (apt-get install {package}).");

    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/> and waits for it.</summary>
    /// <param name="program">A program name looked up by <see cref="Find"/>, or a path.</param>
    /// <param name="arguments">Its arguments, passed as they are.</param>
    /// <param name="netns">Run it inside this network namespace (<c>ip netns exec</c>); null for here.</param>
    /// <param name="timeout">Kill it after this long (default 30 s) and report exit code -1.</param>
    public static CommandResult Run(string program, IEnumerable<string> arguments, string? netns = null, TimeSpan? timeout = null)
    {
        var psi = StartInfo(program, arguments, netns);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Cannot start '{psi.FileName}'.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            return new CommandResult(-1, stdout.Result, stderr.Result + $"(killed after {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds:0.#} s)");
        }
        return new CommandResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Like <see cref="Run"/> but throws an <see cref="InvalidOperationException"/> with the
    /// command and its stderr when it fails; returns stdout.
    /// </summary>
    public static string RunChecked(string program, IEnumerable<string> arguments, string? netns = null, TimeSpan? timeout = null)
    {
        var args = arguments as IReadOnlyCollection<string> ?? arguments.ToArray();
        var result = Run(program, args, netns, timeout);
        if (!result.Succeeded)
            throw new InvalidOperationException(
                $"'{Describe(program, args, netns)}' failed (exit {result.ExitCode}): {FirstLine(result.StandardError)}");
        return result.StandardOutput;
    }

    /// <summary>
    /// A <see cref="ProcessStartInfo"/> for <paramref name="program"/>, wrapped in
    /// <c>ip netns exec NETNS</c> when <paramref name="netns"/> is given. Nothing is redirected.
    /// </summary>
    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, string? netns = null)
    {
        ProcessStartInfo psi;
        if (string.IsNullOrEmpty(netns))
        {
            psi = new ProcessStartInfo(Find(program) ?? program);
        }
        else
        {
            if (!NetworkNamespace.IsValidName(netns))
                throw new ArgumentException($"'{netns}' is not a valid network namespace name.", nameof(netns));
            psi = new ProcessStartInfo(Require("ip", "iproute2", "Running a command in a network namespace"));
            psi.ArgumentList.Add("netns");
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(netns);
            psi.ArgumentList.Add(Find(program) ?? program);
        }
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        psi.UseShellExecute = false;
        return psi;
    }

    /// <summary>The command line as a human would type it, for messages.</summary>
    public static string Describe(string program, IEnumerable<string> arguments, string? netns = null) =>
        (string.IsNullOrEmpty(netns) ? "" : $"ip netns exec {netns} ") + string.Join(' ', arguments.Prepend(program).Select(Quote));

    private static string Quote(string s) =>
        s.Length > 0 && s.AsSpan().IndexOfAny(" \t\"'$\\") < 0 ? s : "'" + s.Replace("'", "'\\''") + "'";

    private static string FirstLine(string text)
    {
        var t = text.Trim();
        int nl = t.IndexOf('\n');
        return nl < 0 ? t : t[..nl];
    }
}
