using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The one place that undoes what we did to the machine (iptables rules, network namespaces)
/// when the process ends: on normal exit (<see cref="AppDomain.ProcessExit"/>), Ctrl-C (SIGINT),
/// SIGTERM, SIGHUP and SIGQUIT, and when the owner disposes its registration, whichever comes
/// first. Each action runs exactly once. A kill -9 runs nothing; the owners remove such
/// leftovers at their next start (they tag what they create with the process id).
/// </summary>
public static class CleanupRegistry
{
    private static readonly object Gate = new();
    private static readonly LinkedList<Registration> Pending = new();
    private static readonly HashSet<Registration> Running = [];
    private static List<PosixSignalRegistration>? _signals;

    /// <summary>
    /// Registers <paramref name="action"/> to run at exit or on a terminating signal. Disposing the
    /// returned handle runs it now (and never again); the handle is what owners keep and dispose.
    /// </summary>
    /// <param name="action">Must not depend on other registrations; runs on any thread.</param>
    /// <param name="description">Names the action in the warning printed if it throws.</param>
    public static CleanupRegistration Register(Action action, string description)
    {
        ArgumentNullException.ThrowIfNull(action);
        var registration = new Registration(action, description);
        lock (Gate)
        {
            InstallHandlers();
            registration.Node = Pending.AddLast(registration);
        }
        return registration;
    }

    /// <summary>The number of actions that have not run yet.</summary>
    public static int PendingCount
    {
        get { lock (Gate) return Pending.Count; }
    }

    /// <summary>
    /// Runs every pending action, newest first (what was built last is torn down first), and waits
    /// (up to 10 s) for actions another thread is already running, so a signal handler does not
    /// let the process die halfway through someone's <c>Dispose</c>.
    /// </summary>
    public static void RunAll()
    {
        while (true)
        {
            Registration? next;
            lock (Gate)
                next = Pending.Last?.Value;
            if (next is null)
                break;
            next.Dispose();
        }
        Registration[] running;
        lock (Gate)
            running = [.. Running];
        foreach (var r in running)
            r.Finished.Wait(TimeSpan.FromSeconds(10));
    }

    private static void InstallHandlers()
    {
        if (_signals is not null)
            return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAll();
        _signals = [];
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            // Not cancelled: after the clean-up the runtime's default handling ends the process.
            _signals.Add(PosixSignalRegistration.Create(signal, _ => RunAll()));
        }
    }

    private sealed class Registration(Action action, string description) : CleanupRegistration
    {
        private bool _done;

        public LinkedListNode<Registration>? Node { get; set; }

        public ManualResetEventSlim Finished { get; } = new();

        public override void Forget()
        {
            lock (Gate)
            {
                if (_done)
                    return;
                _done = true;
                if (Node is { List: not null })
                    Pending.Remove(Node);
            }
            Finished.Set();
        }

        public override void Dispose()
        {
            lock (Gate)
            {
                if (_done)
                    return;
                _done = true;
                if (Node is { List: not null })
                    Pending.Remove(Node);
                Running.Add(this);
            }
            try
            {
                action();
            }
            catch (Exception e)
            {
                // Clean-up runs at exit and from signal handlers: report and carry on with the rest.
                Console.Error.WriteLine($"tcpexposure: warning: clean-up '{description}' failed: {e.Message}");
            }
            finally
            {
                lock (Gate)
                    Running.Remove(this);
                Finished.Set();
            }
        }
    }
}

/// <summary>
/// A pending clean-up action. <see cref="Dispose"/> runs it now (once); <see cref="Forget"/>
/// drops it without running it, for what must outlive the process (a detached test network).
/// </summary>
public abstract class CleanupRegistration : IDisposable
{
    private protected CleanupRegistration()
    {
    }

    /// <summary>Runs the action now unless it already ran or was forgotten.</summary>
    public abstract void Dispose();

    /// <summary>Unregisters the action without running it.</summary>
    public abstract void Forget();
}
