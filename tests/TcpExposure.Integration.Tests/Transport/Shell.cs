using System.Diagnostics;

namespace TcpExposure.Integration.Tests.Transport;

/// <summary>Runs a command to completion and returns its exit code and output.</summary>
internal static class Shell
{
    public static (int Exit, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and throws with the command's stderr when it fails.</summary>
    public static string Must(string file, params string[] args)
    {
        var (exit, output, error) = Run(file, args);
        if (exit != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' exited {exit}: {error.Trim()}");
        return output;
    }
}
