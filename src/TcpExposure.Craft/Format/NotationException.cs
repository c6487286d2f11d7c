namespace TcpExposure.Craft.Format;

/// <summary>
/// A notation (option list or segment line) that cannot be read. <see cref="Token"/> is the
/// offending token as written and <see cref="Position"/> its zero-based character offset in the
/// text that was parsed, so a command line can point at it.
/// </summary>
public sealed class NotationException : FormatException
{
    /// <summary>Creates the error for <paramref name="token"/> at <paramref name="position"/>.</summary>
    public NotationException(string token, int position, string reason)
        : base(token.Length == 0
            ? $"at position {position}: {reason}"
            : $"bad token '{token}' at position {position}: {reason}")
    {
        Token = token;
        Position = position;
        Reason = reason;
    }

    /// <summary>The offending token (empty when the text ended too early).</summary>
    public string Token { get; }

    /// <summary>Zero-based character offset of <see cref="Token"/>.</summary>
    public int Position { get; }

    /// <summary>What was expected, without the token and position.</summary>
    public string Reason { get; }
}
