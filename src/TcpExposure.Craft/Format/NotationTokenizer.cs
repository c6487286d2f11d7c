namespace TcpExposure.Craft.Format;

/// <summary>A word of a notation and where it starts in the text being parsed.</summary>
internal readonly record struct Token(string Text, int Position)
{
    public bool Is(string word) => string.Equals(Text, word, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A cursor over whitespace-separated tokens with their positions. Errors name the token
/// and its position; running out of tokens names the position where one was expected.
/// </summary>
internal sealed class TokenCursor
{
    private readonly List<Token> _tokens;
    private readonly int _end;
    private int _next;

    public TokenCursor(List<Token> tokens, int end)
    {
        _tokens = tokens;
        _end = end;
    }

    /// <summary>Splits <paramref name="text"/> on whitespace; positions are offset by <paramref name="baseOffset"/>.</summary>
    public static TokenCursor Split(string text, int baseOffset = 0)
    {
        var list = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (i > start)
                list.Add(new Token(text[start..i], baseOffset + start));
        }
        return new TokenCursor(list, baseOffset + text.Length);
    }

    public bool AtEnd => _next >= _tokens.Count;
    public Token? Peek => AtEnd ? null : _tokens[_next];
    public Token Last => _tokens[Math.Max(0, _next - 1)];

    public Token Take(string what)
    {
        if (AtEnd)
            throw new NotationException("", _end, $"expected {what}");
        return _tokens[_next++];
    }

    /// <summary>Takes the next token when it is <paramref name="word"/>.</summary>
    public bool TryTake(string word)
    {
        if (!AtEnd && _tokens[_next].Is(word)) { _next++; return true; }
        return false;
    }

    public Token TakeAny()
    {
        return _tokens[_next++];
    }

    public static NotationException Error(Token t, string reason) => new(t.Text, t.Position, reason);
}
