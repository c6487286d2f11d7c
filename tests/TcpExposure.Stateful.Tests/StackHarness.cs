using TcpExposure.Craft.Transport;
using System.Net;

namespace TcpExposure.Stateful.Tests;

/// <summary>
/// Two stacks (client 10.0.0.1, server 10.0.0.2) over an <see cref="InMemoryLink"/> on one
/// <see cref="ManualTimeProvider"/>. <see cref="RunAsync"/> lets the real async loops run until
/// traffic settles, then moves the virtual clock to the next timer, until the work completes.
/// </summary>
internal sealed class StackHarness : IAsyncDisposable
{
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.0.0.1");
    public static readonly IPAddress ServerAddress = IPAddress.Parse("10.0.0.2");

    public readonly ManualTimeProvider Clock = new();
    public readonly InMemoryLink Link;
    public readonly TcpStack Client, Server;

    /// <param name="wrap">Puts each end's transport behind another (a batching one, say) before the stack gets it.</param>
    public StackHarness(TcpStackOptions? options = null, ILossModel? clientToServer = null, ILossModel? serverToClient = null,
        Func<IPacketTransport, IPacketTransport>? wrap = null)
    {
        Link = new InMemoryLink(clientToServer, serverToClient);
        options ??= new TcpStackOptions();
        wrap ??= t => t;
        Client = new TcpStack(wrap(Link.A), ClientAddress, options, Clock);
        Server = new TcpStack(wrap(Link.B), ServerAddress, options, Clock);
        Client.Start();
        Server.Start();
    }

    public IPEndPoint ServerEndPoint(int port) => new(ServerAddress, port);

    /// <summary>Waits (in real time) until no packet moved for a few milliseconds.</summary>
    public async Task SettleAsync()
    {
        long last = -1;
        int stable = 0;
        while (stable < 3)
        {
            await Task.Delay(1);
            long a = Link.Activity;
            if (a == last && Link.Idle)
                stable++;
            else
            {
                stable = 0;
                last = a;
            }
        }
    }

    /// <summary>Drives traffic and the virtual clock until <paramref name="work"/> completes or <paramref name="virtualLimit"/> passes.</summary>
    public async Task<T> RunAsync<T>(Task<T> work, TimeSpan virtualLimit)
    {
        await RunAsync((Task)work, virtualLimit);
        return await work;
    }

    public async Task RunAsync(Task work, TimeSpan virtualLimit)
    {
        var realDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!work.IsCompleted)
        {
            await SettleAsync();
            if (work.IsCompleted)
                break;
            if (DateTime.UtcNow > realDeadline)
                Assert.Fail($"Still running after 120 s of real time (virtual {Clock.Elapsed}).");
            if (Clock.NextDue is { } next)
            {
                if (next > virtualLimit)
                    Assert.Fail($"Not done by virtual time {virtualLimit} (next timer at {next}).");
                Clock.AdvanceTo(next);
            }
        }
        await work;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
