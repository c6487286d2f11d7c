using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>Which pieces of a split segment keep its options.</summary>
public enum SplitOptions
{
    /// <summary>Every piece carries the original options.</summary>
    All,
    /// <summary>Only the first piece does.</summary>
    First,
    /// <summary>No piece does.</summary>
    None,
}

/// <summary>
/// Splits data segments toward the server into pieces of at most <see cref="Size"/> payload bytes,
/// as a resegmenting proxy or a smaller-MSS hop does. PSH and FIN stay on the last piece only; the
/// options go to all pieces, the first or none.
/// </summary>
public sealed class SplitBehaviour : IMiddleboxBehaviour
{
    /// <summary>Splits at <paramref name="size"/> bytes.</summary>
    public SplitBehaviour(int size, SplitOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        Options = options;
    }

    /// <summary>The largest payload of a piece, in bytes.</summary>
    public int Size { get; }
    /// <summary>Which pieces carry the original segment's options.</summary>
    public SplitOptions Options { get; }

    /// <summary>Segments split.</summary>
    public long Split { get; private set; }

    /// <inheritdoc/>
    public string Spec => $"split:{Size}:{Options.ToString().ToLowerInvariant()}";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction) =>
        direction == MiddleboxDirection.ToServer && packet.Tcp.Payload.Length > Size;

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        if (direction != MiddleboxDirection.ToServer || !segment.IsData() || segment.Payload.Length <= Size)
        {
            output.Add(new(segment, direction));
            return;
        }
        Split++;
        var s = segment.Recomputed();
        const TcpFlags lastOnly = TcpFlags.Psh | TcpFlags.Fin;
        int total = s.Payload.Length;
        for (int at = 0; at < total; at += Size)
        {
            bool first = at == 0, last = at + Size >= total;
            var piece = s with
            {
                Sequence = s.Sequence + at,
                Payload = s.Payload.Slice(at, Math.Min(Size, total - at)),
                Flags = last ? s.Flags : s.Flags & ~lastOnly,
                Options = Options == SplitOptions.All || (first && Options == SplitOptions.First) ? s.Options : [],
            };
            if (!first && piece.Ip is Ipv4Header v4 && v4.Identification != 0)
                piece = piece with { Ip = v4 with { Identification = (ushort)(v4.Identification + at / Size) } };
            output.Add(new(piece, direction));
        }
    }
}
