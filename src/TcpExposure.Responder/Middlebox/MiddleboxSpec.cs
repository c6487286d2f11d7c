using System.Globalization;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Parses behaviour specs: a comma-separated list of
/// <c>strip|nop|zero|modify:KIND[:syn|data|both]</c>, <c>seq-offset:N</c>, <c>split:N[:all|first|none]</c>,
/// <c>coalesce[:HOLD_MS[:MAX_BYTES]]</c>, <c>proxy-ack</c>, <c>window:W</c>, <c>drop-beyond-hole</c>
/// and <c>none</c> (forward unchanged).
/// </summary>
public static class MiddleboxSpec
{
    /// <summary>One line per spec form, for help texts.</summary>
    public const string Help =
        "strip:KIND[:syn|data|both], nop:KIND[:scope], zero:KIND[:scope], modify:KIND[:scope], seq-offset:N, split:N[:all|first|none], " +
        "coalesce[:HOLD_MS[:MAX_BYTES]], proxy-ack, window:W, drop-beyond-hole, none";

    /// <summary>Parses <paramref name="specs"/>; throws <see cref="FormatException"/> with a sentence naming the bad part.</summary>
    public static IReadOnlyList<IMiddleboxBehaviour> Parse(string specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var list = new List<IMiddleboxBehaviour>();
        foreach (var spec in specs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (spec.Equals("none", StringComparison.OrdinalIgnoreCase))
                continue;
            list.Add(ParseOne(spec));
        }
        return list;
    }

    /// <summary>Parses one spec such as <c>strip:30:syn</c>.</summary>
    public static IMiddleboxBehaviour ParseOne(string spec)
    {
        var p = spec.Split(':');
        string name = p[0].ToLowerInvariant();
        void Arity(int min, int max)
        {
            if (p.Length - 1 < min || p.Length - 1 > max)
                throw new FormatException($"Middlebox behaviour '{spec}': '{name}' takes {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} to {max}")} argument(s) after ':'.");
        }
        switch (name)
        {
            case "strip" or "nop" or "zero" or "modify":
                Arity(1, 2);
                int kind = Int(spec, p[1], 2, 255, "option kind");
                var scope = p.Length > 2 ? Enum<OptionScope>(spec, p[2]) : OptionScope.Both;
                var action = name switch { "strip" => OptionAction.Strip, "nop" => OptionAction.Nop, "zero" => OptionAction.Zero, _ => OptionAction.Modify };
                return new OptionBehaviour((byte)kind, action, scope);
            case "seq-offset":
                Arity(1, 1);
                if (!long.TryParse(p[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long off) || off < int.MinValue || off > uint.MaxValue)
                    throw new FormatException($"Middlebox behaviour '{spec}': the offset must be an integer between {int.MinValue} and {uint.MaxValue}.");
                return new SequenceOffsetBehaviour(unchecked((int)(uint)(off & 0xFFFFFFFF)));
            case "split":
                Arity(1, 2);
                int size = Int(spec, p[1], 1, 65535, "split size");
                return new SplitBehaviour(size, p.Length > 2 ? Enum<SplitOptions>(spec, p[2]) : SplitOptions.All);
            case "coalesce":
                Arity(0, 2);
                int ms = p.Length > 1 ? Int(spec, p[1], 1, 10000, "hold time in ms") : (int)CoalesceBehaviour.DefaultHold.TotalMilliseconds;
                int max = p.Length > 2 ? Int(spec, p[2], 2, 65535, "maximum payload") : CoalesceBehaviour.DefaultMaxBytes;
                return new CoalesceBehaviour(TimeSpan.FromMilliseconds(ms), max);
            case "proxy-ack":
                Arity(0, 0);
                return new ProxyAckBehaviour();
            case "window":
                Arity(1, 1);
                return new WindowBehaviour((ushort)Int(spec, p[1], 0, 65535, "window"));
            case "drop-beyond-hole":
                Arity(0, 0);
                return new DropBeyondHoleBehaviour();
            default:
                throw new FormatException($"Unknown middlebox behaviour '{spec}'; use {Help}.");
        }
    }

    private static int Int(string spec, string text, int min, int max, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new FormatException($"Middlebox behaviour '{spec}': the {what} must be an integer from {min} to {max}, not '{text}'.");
        return v;
    }

    private static T Enum<T>(string spec, string text) where T : struct, Enum =>
        System.Enum.TryParse<T>(text, ignoreCase: true, out var v) && !int.TryParse(text, out _)
            ? v
            : throw new FormatException($"Middlebox behaviour '{spec}': '{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.");
}
