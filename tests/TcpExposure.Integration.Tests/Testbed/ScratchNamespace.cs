using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>A bare network namespace with only loopback up, unique to one test, deleted on Dispose.</summary>
internal sealed class ScratchNamespace : IDisposable
{
    private static int _counter;

    public ScratchNamespace()
    {
        Name = $"txs{Environment.ProcessId}x{Interlocked.Increment(ref _counter)}";
        ExternalCommand.RunChecked("ip", ["netns", "add", Name]);
        ExternalCommand.RunChecked("ip", ["link", "set", "lo", "up"], Name);
    }

    public string Name { get; }

    public string Exec(params string[] argv) => ExternalCommand.RunChecked(argv[0], argv.Skip(1), Name);

    public void Dispose()
    {
        if (NetworkNamespace.Exists(Name))
            ExternalCommand.Run("ip", ["netns", "del", Name]);
    }
}
