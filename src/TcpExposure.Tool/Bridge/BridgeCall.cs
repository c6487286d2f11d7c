namespace TcpExposure.Tool.Bridge;

/// <summary>
/// Bytes Python passed as (pointer, length). The span or string is made only inside a guarded
/// body (<see cref="BridgeCall"/>), so a bad length throws there instead of past the entry point.
/// </summary>
internal readonly unsafe struct BridgeIn(byte* data, int length)
{
    public ReadOnlySpan<byte> Span => new(data, length);
    /// <summary>The bytes as UTF-8 text ("" when empty).</summary>
    public string Text => BridgeExports.Str(data, length);
    public bool IsEmpty => length <= 0;
}

/// <summary>
/// The frame every bridge entry point shares: run the body, hand its result out as a native block,
/// and turn any exception into a <see cref="BridgeStatus"/> and a message (an exception escaping an
/// <c>UnmanagedCallersOnly</c> method kills the process). Bodies are static lambdas over a value
/// tuple of the arguments, so a call allocates nothing more than the body itself does: the
/// delegate is cached and the arguments travel by value.
/// </summary>
internal static unsafe class BridgeCall
{
    /// <summary>Runs <paramref name="body"/>; its bytes go out through <paramref name="result"/>, or an error message does.</summary>
    public static int Bytes<TArgs>(TArgs args, Func<TArgs, ReadOnlySpan<byte>> body, byte** result, int* resultLen)
    {
        try
        {
            BridgeResult.Put(body(args), result, resultLen);
            return (int)BridgeStatus.Ok;
        }
        catch (Exception e)
        {
            return BridgeResult.Fail(e, result, resultLen);
        }
    }

    /// <summary>Runs <paramref name="body"/>, which writes its own out-parameters; an error message goes out through <paramref name="err"/>.</summary>
    public static int Run<TArgs>(TArgs args, Action<TArgs> body, byte** err, int* errLen)
    {
        try
        {
            body(args);
            return (int)BridgeStatus.Ok;
        }
        catch (Exception e)
        {
            return BridgeResult.Fail(e, err, errLen);
        }
    }
}
