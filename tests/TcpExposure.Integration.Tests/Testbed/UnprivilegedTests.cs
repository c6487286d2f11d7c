using System.Diagnostics;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>The verbs run as nobody, without capabilities (setpriv): one clear sentence and exit 1.</summary>
public class UnprivilegedTests
{
    private static (int Code, string Stderr) RunAsNobody(params string[] args)
    {
        string setpriv = ExternalCommand.Find("setpriv") ?? throw new IgnoreException("setpriv (util-linux) is not installed.");
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
            ? p : ExternalCommand.Find("dotnet") ?? throw new IgnoreException("dotnet not found on PATH.");
        var psi = new ProcessStartInfo(setpriv) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp", "DOTNET_NOLOGO=1",
                     dotnet, Path.Combine(AppContext.BaseDirectory, "tcpexposure.dll") }.Concat(args))
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        string stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Trim());
    }

    [SetUp]
    public void SetUp()
    {
        Root.Require(); // setpriv needs root to drop to nobody
    }

    [Test]
    public void TestbedUpAsNobodyNamesCapSysAdmin()
    {
        var (code, stderr) = RunAsNobody("testbed", "up", "--foreground");
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr, Is.EqualTo("tcpexposure: Building the test network needs CAP_SYS_ADMIN (network namespaces): run as root."));
    }

    [Test]
    public void RstGuardAsNobodyNamesCapNetAdminAndSetcap()
    {
        var (code, stderr) = RunAsNobody("rst-guard", "--local", "127.0.0.1:9", "--duration", "1");
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr, Is.EqualTo("tcpexposure: The RST guard (an iptables rule) needs CAP_NET_ADMIN: run as root or grant it with `sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which dotnet))`."));
    }
}
