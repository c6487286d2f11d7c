using System.Diagnostics;

namespace TcpExposure.Craft.Tests.CrossCheck;

/// <summary>Runs the independent tools the cross-checks compare against (tshark, editcap, scapy's python).</summary>
internal static class ExternalTool
{
    /// <summary>The full path of <paramref name="name"/>; fails the test (never skips) when scripts/setup.sh has not installed it.</summary>
    public static string Require(string name, string package)
    {
        if (name.StartsWith('/'))
        {
            if (File.Exists(name)) return name;
        }
        else
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
            foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" })
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        Assert.Fail($"{name} is not installed; the cross-check needs it. Run scripts/setup.sh (it installs the apt package {package}).");
        return null!;
    }

    private static readonly Lazy<string> EmptyConfigDir = new(() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "tcpexposure-empty-wireshark-profile")).FullName);

    /// <summary>Runs a tool to completion and returns its standard output; fails the test on a non-zero exit or a timeout.</summary>
    public static string Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 60)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        // The user's Wireshark preferences must not change what tshark prints: point it at an empty profile.
        psi.Environment["WIRESHARK_CONFIG_DIR"] = EmptyConfigDir.Value;
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderrTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(file)} did not finish within {timeoutSeconds} s.");
        }
        p.WaitForExit();
        string stdout = stdoutTask.Result, stderr = stderrTask.Result;
        if (p.ExitCode != 0)
            Assert.Fail($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {p.ExitCode}: {stderr.Trim()}");
        return stdout;
    }
}
