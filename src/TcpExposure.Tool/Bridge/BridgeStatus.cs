using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Bridge;

/// <summary>
/// What a bridge entry point returns; python/tcpexposure/_bridge.py raises the matching Python
/// exception with the C# message. Keep the numbers in step with <c>_bridge.py</c>.
/// </summary>
public enum BridgeStatus
{
    /// <summary>Success: the result, if any, is in the out-parameters.</summary>
    Ok = 0,
    /// <summary>A value of the wrong type crossed the bridge; Python raises TypeError with the message.</summary>
    TypeError = 1,
    /// <summary>A value was out of range or malformed (a bad address, port, hex string); Python raises ValueError.</summary>
    ValueError = 2,
    /// <summary>The operating system refused or failed (a socket, file or interface error); Python raises OSError.</summary>
    OSError = 3,
    /// <summary>A privilege is missing (usually CAP_NET_RAW or CAP_NET_ADMIN); Python raises PermissionError.</summary>
    PermissionError = 4,
    /// <summary>Any other failure (a bug, or out of memory while reporting); Python raises RuntimeError.</summary>
    RuntimeError = 5,
    /// <summary>The caller's output buffer is too small; the needed length is in the length out-parameter.</summary>
    BufferTooSmall = 6,
}

/// <summary>
/// The C-ABI result protocol: a result or an error message goes out as a block from
/// <see cref="NativeMemory"/> (pointer + length) that Python copies and hands back to
/// <see cref="BridgeExports.Free"/>. Every entry point funnels exceptions through <see cref="Fail"/>,
/// because an exception escaping an <c>UnmanagedCallersOnly</c> method kills the process.
/// </summary>
internal static unsafe class BridgeResult
{
    /// <summary>Copies <paramref name="bytes"/> into a fresh native block and stores it in the out-parameters.</summary>
    public static void Put(ReadOnlySpan<byte> bytes, byte** outPtr, int* outLen)
    {
        if (outPtr is null || outLen is null)
            return;
        byte* block = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, bytes.Length));
        bytes.CopyTo(new Span<byte>(block, bytes.Length));
        *outPtr = block;
        *outLen = bytes.Length;
    }

    /// <summary>Stores the exception's message and returns the status Python maps to an exception class.</summary>
    public static int Fail(Exception e, byte** outPtr, int* outLen)
    {
        try
        {
            var (status, message) = Classify(e);
            Put(Encoding.UTF8.GetBytes(message), outPtr, outLen);
            return (int)status;
        }
        catch
        {
            return (int)BridgeStatus.RuntimeError; // out of memory while reporting: no message, but no crash
        }
    }

    /// <summary>Maps a C# exception to the Python exception class it becomes.</summary>
    public static (BridgeStatus Status, string Message) Classify(Exception e) => e switch
    {
        AggregateException { InnerException: { } inner } => Classify(inner),
        BridgeTypeException => (BridgeStatus.TypeError, e.Message),
        UnauthorizedAccessException => (BridgeStatus.PermissionError, e.Message),
        // LegacyOption reports a value of the wrong kind as an ArgumentException; in Python that is a TypeError.
        ArgumentException when e.Message.Contains(" must be an integer, got ", StringComparison.Ordinal)
            || e.Message.Contains(" must be bytes, got ", StringComparison.Ordinal) => (BridgeStatus.TypeError, e.Message),
        ArgumentException or FormatException or OverflowException => (BridgeStatus.ValueError, e.Message),
        IOException or SocketException or DllNotFoundException => (BridgeStatus.OSError, e.Message),
        _ => (BridgeStatus.RuntimeError, $"{e.GetType().Name}: {e.Message}"),
    };
}

/// <summary>The errors the bridge raises when the hosting interpreter lacks a capability.</summary>
internal static class BridgePrivileges
{
    /// <summary>
    /// Missing CAP_NET_RAW, told for a Python host: the capability belongs on the interpreter, since
    /// the runtime runs inside it.
    /// </summary>
    public static MissingPrivilegeException NoRaw(string? detail = null) => new(Capability.NetRaw,
        "Sending and capturing raw packets needs CAP_NET_RAW: run as root, or grant it to the interpreter with "
        + "`sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which python3))`." + (detail is null ? "" : $" ({detail})"));
}

/// <summary>A value of the wrong type crossed the bridge (becomes a Python TypeError).</summary>
internal sealed class BridgeTypeException(string message) : Exception(message);
