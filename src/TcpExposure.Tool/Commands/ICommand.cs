namespace TcpExposure.Tool.Commands;

/// <summary>A verb's options, which know how to run themselves.</summary>
public interface ICommand
{
    /// <summary>Runs the verb; returns the exit code (0 success, 1 failure).</summary>
    int Execute();
}

/// <summary>A bad command line found after parsing (a bad value): exits 2 with the message.</summary>
public sealed class UsageException(string message) : Exception(message);
