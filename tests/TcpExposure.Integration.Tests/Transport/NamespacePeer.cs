using System.Diagnostics;
using System.Net;

namespace TcpExposure.Integration.Tests.Transport;

/// <summary>
/// A network namespace holding the kernel peer, joined to this (the test's) namespace by a veth
/// pair with private IPv4 and IPv6 addresses. Our side drops the kernel's own RSTs on its end of the
/// veth (our segments come from ports the kernel does not own). Names carry a "txtr" prefix and
/// the process id; a later run removes what a killed run left behind.
/// </summary>
internal sealed class NamespacePeer : IDisposable
{
    private const string Prefix = "txtr";
    private readonly List<Process> _listeners = [];
    private readonly string _ruleComment;
    private bool _disposed;

    /// <summary>The firewall mark our raw sockets put on packets so the RST drop rule spares them.</summary>
    public const uint OurMark = 0x7478;

    public string Namespace { get; }
    public string OurInterface { get; }
    public IPAddress OurAddress { get; }
    public IPAddress PeerAddress { get; }
    public IPAddress OurAddress6 { get; }
    public IPAddress PeerAddress6 { get; }

    public NamespacePeer()
    {
        SweepStale();
        int pid = Environment.ProcessId;
        int r = Random.Shared.Next(0, 1 << 16);
        string id = $"{pid:x}{r:x4}";
        Namespace = $"{Prefix}{id}";
        OurInterface = $"{Prefix}{r:x4}a";
        string peerIf = $"{Prefix}{r:x4}b";
        int b2 = 200 + r % 50, b3 = (r >> 6) % 256, b4 = (r % 63) * 4;
        OurAddress = IPAddress.Parse($"10.{b2}.{b3}.{b4 + 1}");
        PeerAddress = IPAddress.Parse($"10.{b2}.{b3}.{b4 + 2}");
        OurAddress6 = IPAddress.Parse($"fd7e:{r:x4}:{pid & 0xFFFF:x}::1");
        PeerAddress6 = IPAddress.Parse($"fd7e:{r:x4}:{pid & 0xFFFF:x}::2");
        _ruleComment = $"{Prefix}:{pid}:{OurInterface}";
        try
        {
            Shell.Must("ip", "netns", "add", Namespace);
            Shell.Must("ip", "link", "add", OurInterface, "type", "veth", "peer", "name", peerIf);
            Shell.Must("ip", "link", "set", peerIf, "netns", Namespace);
            Shell.Must("ip", "addr", "add", $"{OurAddress}/30", "dev", OurInterface);
            Shell.Must("ip", "addr", "add", $"{OurAddress6}/64", "dev", OurInterface, "nodad");
            Shell.Must("ip", "link", "set", OurInterface, "up");
            InPeer("ip", "addr", "add", $"{PeerAddress}/30", "dev", peerIf);
            InPeer("ip", "addr", "add", $"{PeerAddress6}/64", "dev", peerIf, "nodad");
            InPeer("ip", "link", "set", peerIf, "up");
            InPeer("ip", "link", "set", "lo", "up");
            foreach (var tool in new[] { "iptables", "ip6tables" })
                Shell.Must(tool, "-I", "OUTPUT", "-o", OurInterface, "-p", "tcp", "--tcp-flags", "RST", "RST",
                    "-m", "mark", "!", "--mark", $"0x{OurMark:x}", "-m", "comment", "--comment", _ruleComment, "-j", "DROP");
            // veth hands packets over with the checksum left to "hardware" (CHECKSUM_PARTIAL), which a
            // capture sees unfinished; make the peer's kernel compute it, as a real NIC would have.
            InPeer("ethtool", "-K", peerIf, "tx", "off");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string InPeer(string file, params string[] args) => Shell.Must("ip", ["netns", "exec", Namespace, file, .. args]);

    /// <summary>Starts <c>nc -l ADDRESS PORT</c> in the peer namespace and waits until it listens.</summary>
    public Process Listen(int port, bool ipv6 = false)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", Namespace, "nc", "-l", (ipv6 ? PeerAddress6 : PeerAddress).ToString(), port.ToString() })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _listeners.Add(p);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            if (InPeer("ss", "-Hltn", $"sport = :{port}").Contains($":{port}", StringComparison.Ordinal))
                return p;
            Thread.Sleep(20); // test setup only: waiting for another process to bind
        }
        throw new InvalidOperationException($"nc did not start listening on port {port}.");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _listeners)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        RemoveRules(_ruleComment);
        Shell.Run("ip", "link", "del", OurInterface);
        Shell.Run("ip", "netns", "del", Namespace);
    }

    private static void RemoveRules(string commentPrefix)
    {
        foreach (var tool in new[] { "iptables", "ip6tables" })
        {
            var (_, rules, _) = Shell.Run(tool + "-save");
            foreach (var line in rules.Split('\n'))
            {
                if (!line.StartsWith("-A OUTPUT", StringComparison.Ordinal) || !line.Replace("\"", "").Contains("--comment " + commentPrefix, StringComparison.Ordinal))
                    continue;
                var args = line["-A ".Length..].Replace("\"", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Shell.Run(tool, ["-D", .. args]);
            }
        }
    }

    /// <summary>Removes namespaces, links and rules of earlier runs whose process is gone.</summary>
    private static void SweepStale()
    {
        var (_, list, _) = Shell.Run("ip", "netns", "list");
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length < Prefix.Length + 5) continue;
            string pidHex = name[Prefix.Length..^4];
            if (int.TryParse(pidHex, System.Globalization.NumberStyles.HexNumber, null, out int pid) && !Directory.Exists($"/proc/{pid}"))
            {
                Shell.Run("ip", "link", "del", $"{Prefix}{name[^4..]}a");
                Shell.Run("ip", "netns", "del", name);
                RemoveRules($"{Prefix}:{pid}:");
            }
        }
    }
}
