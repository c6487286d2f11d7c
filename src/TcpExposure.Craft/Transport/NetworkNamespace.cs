using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Runs code inside a named network namespace (<c>/run/netns/NAME</c>, as <c>ip netns add</c>
/// makes them) from the current process. <c>setns(2)</c> moves only the calling OS thread, so the
/// code runs on a dedicated thread that enters the namespace and then ends; sockets (raw,
/// AF_PACKET, TCP, UDP) and libpcap handles created there stay bound to that namespace for their
/// whole life, whichever thread uses them afterwards.
/// </summary>
/// <remarks>
/// Only creation needs the namespace: do the <c>socket()</c>/<c>pcap_activate()</c> inside
/// the delegate, return the handle, and use it anywhere. Async continuations inside
/// the delegate would resume on pool threads in the original namespace, which is why the delegate
/// is synchronous. Entering a namespace needs CAP_SYS_ADMIN.
/// </remarks>
public static partial class NetworkNamespace
{
    /// <summary>Where <c>ip netns</c> keeps its bind-mounted namespace files.</summary>
    public const string Directory = "/run/netns";

    private const int CLONE_NEWNET = 0x40000000;

    /// <summary>The namespace file of <paramref name="name"/>, after checking the name.</summary>
    public static string PathOf(string name)
    {
        ValidateName(name);
        return Path.Combine(Directory, name);
    }

    /// <summary>Whether a namespace called <paramref name="name"/> exists.</summary>
    public static bool Exists(string name) => IsValidName(name) && File.Exists(Path.Combine(Directory, name));

    /// <summary>
    /// Runs <paramref name="create"/> inside network namespace <paramref name="name"/> and returns
    /// what it returns (or rethrows what it throws). A null or empty name runs it right here, in
    /// the current namespace, so callers can treat "no namespace" uniformly.
    /// </summary>
    /// <exception cref="IOException">The namespace does not exist or cannot be entered.</exception>
    /// <exception cref="UnauthorizedAccessException">Entering it needs CAP_SYS_ADMIN.</exception>
    public static T Run<T>(string? name, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (string.IsNullOrEmpty(name))
            return create();
        return RunAsync(name, create).GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="action"/> inside network namespace <paramref name="name"/>.</summary>
    public static void Run(string? name, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(name, () => { action(); return true; });
    }

    /// <summary>
    /// Like <see cref="Run{T}(string?, Func{T})"/> but completes a task instead of blocking the
    /// caller: the dedicated thread runs <paramref name="create"/> and completes the task with its
    /// result. Continuations never run on the namespaced thread.
    /// </summary>
    public static Task<T> RunAsync<T>(string? name, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (string.IsNullOrEmpty(name))
        {
            try { return Task.FromResult(create()); }
            catch (Exception e) { return Task.FromException<T>(e); }
        }
        string path = PathOf(name);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Enter(name, path);
                done.SetResult(create());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"netns {name}",
        };
        thread.Start();
        return done.Task;
    }

    private static void Enter(string name, string path)
    {
        SafeFileHandle? handle = null;
        try
        {
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            }
            catch (FileNotFoundException)
            {
                throw new IOException($"Network namespace '{name}' does not exist ({path} is missing).");
            }
            catch (DirectoryNotFoundException)
            {
                throw new IOException($"Network namespace '{name}' does not exist ({Directory} is missing).");
            }
            if (SetNs((int)handle.DangerousGetHandle(), CLONE_NEWNET) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EPERM: no CAP_SYS_ADMIN; EINVAL: the file is not a network namespace.
                if (errno == 1)
                    throw new UnauthorizedAccessException(
                        $"Entering network namespace '{name}' needs CAP_SYS_ADMIN: run as root.");
                throw new IOException($"Cannot enter network namespace '{name}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <summary>Whether <paramref name="name"/> is a usable namespace name (one path component).</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 255 && name != "." && name != ".." &&
        name.AsSpan().IndexOfAny('/', '\0') < 0;

    private static void ValidateName(string name)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"'{name}' is not a valid network namespace name.", nameof(name));
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
