using System.Diagnostics;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>Small shared helpers for the test-network tests.</summary>
internal static class Helpers
{
    /// <summary>Starts the built <c>tcpexposure</c> command (copied next to the tests) with redirected I/O.</summary>
    public static Process StartTool(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tcpexposure.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>The next line of <paramref name="reader"/>, failing the test after <paramref name="seconds"/>.</summary>
    public static string ReadLine(StreamReader reader, double seconds = 30)
    {
        var line = reader.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(seconds)))
            Assert.Fail($"No output within {seconds} s.");
        return line.Result ?? throw new AssertionException("The process ended without the expected output.");
    }

    /// <summary>Reads lines until one contains <paramref name="text"/>; returns it.</summary>
    public static string ReadLineContaining(StreamReader reader, string text, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            double left = (deadline - DateTime.UtcNow).TotalSeconds;
            if (left <= 0)
                Assert.Fail($"No line containing '{text}' within {seconds} s.");
            string line = ReadLine(reader, left);
            if (line.Contains(text, StringComparison.Ordinal))
                return line;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds; false after <paramref name="seconds"/>.</summary>
    public static async Task<bool> WaitUntil(Func<bool> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            await Task.Delay(20);
        }
        return condition();
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, KILL, INT) to <paramref name="process"/>.</summary>
    public static void Signal(Process process, string signal) =>
        ExternalCommand.RunChecked("kill", [$"-{signal}", process.Id.ToString()]);

    /// <summary>Every namespace whose name starts with <paramref name="prefix"/>.</summary>
    public static string[] Namespaces(string prefix) =>
        Directory.Exists(NetworkNamespace.Directory)
            ? Directory.GetFiles(NetworkNamespace.Directory).Select(Path.GetFileName).OfType<string>()
                .Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray()
            : [];

    /// <summary>Kills <paramref name="process"/> if it still runs and disposes it.</summary>
    public static void Reap(Process? process)
    {
        if (process is null)
            return;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
