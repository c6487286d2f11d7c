using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Stateful;

/// <summary>
/// Like <see cref="RstGuard"/> but for a range of source ports (the ephemeral ports of our active
/// opens, which the kernel knows nothing about). Tagged like every guard, so
/// <see cref="RstGuard.RemoveStale(string?)"/> deletes what a killed process left, and removed on
/// dispose, exit and signals through <see cref="CleanupRegistry"/>.
/// </summary>
public sealed class PortRangeRstGuard : IDisposable
{
    private static int _counter;
    private readonly string _program;
    private readonly string? _netns;
    private readonly string[] _spec;
    private readonly IDisposable _cleanup;
    private readonly object _gate = new();
    private bool _installed;

    private PortRangeRstGuard(string program, string? netns, string[] spec, string description)
    {
        _program = program;
        _netns = netns;
        _spec = spec;
        _cleanup = CleanupRegistry.Register(Remove, description);
    }

    public static PortRangeRstGuard Create(IPAddress address, int first, int last, string? netns)
    {
        Privileges.Require("The RST guard (an iptables rule)", Capability.NetAdmin);
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        string program = ExternalCommand.Require(v6 ? "ip6tables" : "iptables", "iptables", "The RST guard");
        RstGuard.RemoveStale(netns);
        string comment = $"{RstGuard.TagPrefix}{ProcessIdentity.Current}:rst-range:{Interlocked.Increment(ref _counter)}";
        string[] spec =
        [
            "OUTPUT", "-s", address.ToString(), "-p", "tcp", "--sport",
            string.Create(CultureInfo.InvariantCulture, $"{first}:{last}"),
            "--tcp-flags", "RST", "RST", "-m", "mark", "!", "--mark", $"0x{RstGuard.ExemptMark:x}",
            "-m", "comment", "--comment", comment, "-j", "DROP",
        ];
        var guard = new PortRangeRstGuard(program, netns, spec, $"RST guard {address}:{first}-{last}");
        try
        {
            lock (guard._gate)
            {
                ExternalCommand.RunChecked(program, ["-w", "-t", "filter", "-I", .. spec], netns);
                guard._installed = true;
            }
        }
        catch
        {
            guard.Dispose();
            throw;
        }
        return guard;
    }

    private void Remove()
    {
        lock (_gate)
        {
            if (!_installed)
                return;
            _installed = false;
            if (_netns is not null && !NetworkNamespace.Exists(_netns))
                return;
            ExternalCommand.Run(_program, ["-w", "-t", "filter", "-D", .. _spec], _netns);
        }
    }

    public void Dispose() => _cleanup.Dispose();
}
