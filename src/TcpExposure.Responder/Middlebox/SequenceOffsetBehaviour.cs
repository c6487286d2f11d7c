using System.Collections.Immutable;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Rewrites the client's sequence space by a fixed offset, consistently, as sequence-randomising
/// firewalls do: toward the server the sequence number grows by the offset; toward the client the
/// acknowledgment number and the SACK blocks (which name client sequence numbers) shrink by it.
/// Both ends keep working; only an end that compares what it sent with what arrived can tell.
/// </summary>
public sealed class SequenceOffsetBehaviour(int offset) : IMiddleboxBehaviour
{
    /// <summary>Bytes added to the client's sequence numbers toward the server (modulo 2^32; negative shifts back).</summary>
    public int Offset { get; } = offset;

    /// <inheritdoc/>
    public string Spec => $"seq-offset:{(uint)Offset}";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction) => Offset != 0;

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        if (Offset == 0)
        {
            output.Add(new(segment, direction));
            return;
        }
        var s = segment.Recomputed();
        if (direction == MiddleboxDirection.ToServer)
        {
            s = s with { Sequence = s.Sequence + Offset };
        }
        else
        {
            if (s.Flags.Has(TcpFlags.Ack))
                s = s with { Acknowledgment = s.Acknowledgment - Offset };
            if (s.HasOption(TcpOptionKind.Sack))
                s = s with { Options = SegmentEdits.MapOptions(s.Options, TcpOptionKind.Sack, Shift) };
        }
        output.Add(new(s, direction));
    }

    private TcpOption Shift(TcpOption o)
    {
        if (o is not SackOption sack)
            return o;
        var blocks = ImmutableArray.CreateBuilder<SackBlock>(sack.Blocks.Length);
        foreach (var b in sack.Blocks)
            blocks.Add(new SackBlock(b.Left - Offset, b.Right - Offset));
        return new SackOption(blocks.MoveToImmutable());
    }
}
