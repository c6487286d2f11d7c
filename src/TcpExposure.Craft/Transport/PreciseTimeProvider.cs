using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// The system clock with timers of nanosecond resolution: each timer is a Linux timerfd
/// (CLOCK_MONOTONIC) read by its own thread, so it blocks in the kernel until the due time.
/// </summary>
/// <remarks>
/// <see cref="TimeProvider.System"/>'s timers count whole milliseconds: on a path whose round trip
/// is 0.1 ms a TCP probe or reordering timeout of 0.25 ms would fire at once (and, re-armed, spin)
/// or wait a whole millisecond. Each timer costs a thread, so this is for the few long-lived timers
/// of a TCP stack, not for per-operation delays. Elsewhere than Linux it falls back to the system
/// timers.
/// </remarks>
public sealed partial class PreciseTimeProvider : TimeProvider
{
    /// <summary>The one instance.</summary>
    public static PreciseTimeProvider Instance { get; } = new();

    private PreciseTimeProvider() { }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (!OperatingSystem.IsLinux())
            return System.CreateTimer(callback, state, dueTime, period);
        return new TimerFdTimer(callback, state, dueTime, period);
    }

    private sealed class TimerFdTimer : ITimer
    {
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly int _fd;
        private readonly Lock _gate = new(); // Change, Dispose and the close never race on the descriptor
        private volatile bool _disposed;

        public TimerFdTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callback = callback;
            _state = state;
            _fd = timerfd_create(ClockMonotonic, TfdCloexec);
            if (_fd < 0)
                throw new InvalidOperationException($"timerfd_create failed: {Marshal.GetLastPInvokeErrorMessage()}");
            new Thread(Run) { IsBackground = true, Name = "precise-timer" }.Start();
            Change(dueTime, period);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            using var _ = _gate.EnterScope();
            if (_disposed)
                return false;
            var spec = new ITimerSpec
            {
                // A zero it_value disarms a timerfd: "now" is one nanosecond.
                Value = dueTime == Timeout.InfiniteTimeSpan ? default : ToTimeSpec(dueTime, minimum: 1),
                Interval = period == Timeout.InfiniteTimeSpan ? default : ToTimeSpec(period, minimum: 0),
            };
            return timerfd_settime(_fd, 0, in spec, IntPtr.Zero) == 0;
        }

        private static TimeSpec ToTimeSpec(TimeSpan t, long minimum)
        {
            long ns = Math.Max(minimum, t.Ticks * 100);
            return new TimeSpec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
        }

        private unsafe void Run()
        {
            ulong expirations;
            try
            {
                while (true)
                {
                    nint n = read(_fd, &expirations, sizeof(ulong));
                    if (_disposed)
                        return;
                    if (n == sizeof(ulong))
                        _callback(_state);
                    else if (Marshal.GetLastPInvokeError() != EIntr)
                        return;
                }
            }
            finally
            {
                using var _ = _gate.EnterScope();
                _disposed = true;
                close(_fd); // the reader closes, so Dispose never pulls the descriptor from under a read
            }
        }

        public void Dispose()
        {
            using var _ = _gate.EnterScope();
            if (_disposed)
                return;
            _disposed = true;
            var wake = new ITimerSpec { Value = new TimeSpec { Nanoseconds = 1 } };
            timerfd_settime(_fd, 0, in wake, IntPtr.Zero);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private const int ClockMonotonic = 1;
    private const int TfdCloexec = 0x80000;
    private const int EIntr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ITimerSpec
    {
        public TimeSpec Interval;
        public TimeSpec Value;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int timerfd_create(int clockId, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int timerfd_settime(int fd, int flags, in ITimerSpec newValue, IntPtr oldValue);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
