using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TcpExposure.Integration.Tests.Testbed;
using TcpExposure.Tool.Testbed;

namespace TcpExposure.Integration.Tests.Stateful;

/// <summary>Files and the <c>tcpexposure</c> processes the stateful integration tests share.</summary>
internal static partial class ServeFixture
{
    public static string ToolDll => Path.Combine(AppContext.BaseDirectory, "tcpexposure.dll");

    /// <summary>A fresh directory under /tmp that the namespaced processes can read and write.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"txserve-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Random content of <paramref name="bytes"/> bytes; with <paramref name="http"/>, behind an HTTP/1.0 response header.</summary>
    public static string MakeFile(string dir, int bytes, bool http)
    {
        var body = new byte[bytes];
        Random.Shared.NextBytes(body);
        string path = Path.Combine(dir, http ? "response.http" : "payload.bin");
        using var f = File.Create(path);
        if (http)
            f.Write(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"));
        f.Write(body);
        File.WriteAllBytes(Path.Combine(dir, "body.bin"), body);
        return path;
    }

    public static string Md5(string path) => Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(path)));

    /// <summary>Starts <c>tcpexposure serve</c> in srv and returns once it listens.</summary>
    public static Process StartServe(TestNetwork net, string file, int port, string via = "raw", params string[] extra)
    {
        string[] args = [ToolDll, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--file", file, "--via", via, "-v", .. extra];
        if (via == "pcap")
            args = [.. args, "--peer", net.Client.Address.ToString()];
        var p = net.StartProcess("srv", "dotnet", args);
        Helpers.ReadLineContaining(p.StandardOutput, "serving", 60);
        return p;
    }

    /// <summary>Waits for serve (started with --count) to exit; returns its stdout rest and stderr.</summary>
    public static (string Stdout, string Stderr) WaitExit(Process p, double seconds)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            p.Kill(true);
            Assert.Fail($"serve did not exit within {seconds} s: {stderr.Result}");
        }
        return (stdout.Result, stderr.Result);
    }

    /// <summary>A number from serve's counters line ("connections 1 retransmissions 3 ...").</summary>
    public static long Counter(string stdout, string name)
    {
        var m = Regex.Match(stdout, $@"\b{name} (\d+)");
        Assert.That(m.Success, Is.True, $"no '{name}' counter in: {stdout}");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The zero-window probes serve's -v progress line reports.</summary>
    public static long ZeroWindowProbes(string stderr)
    {
        var m = ZeroWindowPattern().Match(stderr);
        Assert.That(m.Success, Is.True, $"no per-connection summary in: {stderr}");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"(\d+) zero-window probes")]
    private static partial Regex ZeroWindowPattern();
}
