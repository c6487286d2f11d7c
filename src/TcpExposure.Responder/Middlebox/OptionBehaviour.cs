using TcpExposure.Craft.Options;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>What <see cref="OptionBehaviour"/> does to an option.</summary>
public enum OptionAction
{
    /// <summary>Remove the option; the header shrinks (options after it move up, padding is recomputed).</summary>
    Strip,
    /// <summary>Overwrite the option with NOPs, keeping the header length, as iptables TCPOPTSTRIP does.</summary>
    Nop,
    /// <summary>Keep kind and length, write zeros over the option's data.</summary>
    Zero,
    /// <summary>Keep kind and length, flip bits in the option's data (every byte XOR 0x5A), so it is neither kept nor zero.</summary>
    Modify,
}

/// <summary>Which segments <see cref="OptionBehaviour"/> touches.</summary>
public enum OptionScope
{
    /// <summary>SYNs and SYN-ACKs.</summary>
    Syn,
    /// <summary>Every segment without SYN.</summary>
    Data,
    /// <summary>All segments.</summary>
    Both,
}

/// <summary>
/// Strips, zeroes or modifies one option kind, in both directions (so a SYN-ACK echo of the option
/// is treated like the SYN's option), fixing the checksums. Malformed options are left alone: the
/// behaviour models a middlebox that parses options.
/// </summary>
public sealed class OptionBehaviour(byte kind, OptionAction action, OptionScope scope) : IMiddleboxBehaviour
{
    /// <summary>The byte every data byte is XORed with by <see cref="OptionAction.Modify"/>.</summary>
    public const byte ModifyMask = 0x5A;

    /// <summary>The option kind acted on.</summary>
    public byte Kind { get; } = kind;
    /// <summary>What is done to the option.</summary>
    public OptionAction Action { get; } = action;
    /// <summary>Which segments are acted on: SYNs, the rest, or both.</summary>
    public OptionScope Scope { get; } = scope;

    /// <summary>Segments whose option was changed.</summary>
    public long Changed { get; private set; }

    /// <inheritdoc/>
    public string Spec => $"{Action.ToString().ToLowerInvariant()}:{Kind}:{Scope.ToString().ToLowerInvariant()}";

    /// <inheritdoc/>
    public bool Touches(in PacketView packet, MiddleboxDirection direction)
    {
        bool syn = packet.Tcp.Flags.Has(TcpFlags.Syn);
        if (Scope != OptionScope.Both && (Scope == OptionScope.Syn) != syn)
            return false;
        foreach (var o in packet.Tcp.Options)
        {
            // A malformed option: let the parser decide what it is.
            if (o.Kind == Kind || o.Problem != OptionProblem.None)
                return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public void Process(TcpSegment segment, MiddleboxDirection direction, ICollection<RoutedSegment> output)
    {
        bool syn = segment.Flags.Has(TcpFlags.Syn);
        bool inScope = Scope == OptionScope.Both || (Scope == OptionScope.Syn) == syn;
        if (!inScope || !segment.HasOption(Kind))
        {
            output.Add(new(segment, direction));
            return;
        }
        Changed++;
        if (Action == OptionAction.Nop)
        {
            var b = System.Collections.Immutable.ImmutableArray.CreateBuilder<TcpOption>();
            foreach (var o in segment.Options)
            {
                if (o.Kind == Kind && !o.IsMalformed)
                    for (int i = 0; i < o.Length; i++)
                        b.Add(new NopOption());
                else
                    b.Add(o);
            }
            output.Add(new(segment.Recomputed() with { Options = b.ToImmutable() }, direction));
            return;
        }
        var options = SegmentEdits.MapOptions(segment.Options, Kind, o => Action switch
        {
            OptionAction.Strip => null,
            OptionAction.Zero => new RawOption(Kind, new byte[Math.Max(0, o.Length - 2)]),
            _ => Modified(o),
        });
        output.Add(new(segment.Recomputed() with { Options = options }, direction));
    }

    private static RawOption Modified(TcpOption o)
    {
        var bytes = o.ToBytes();
        var data = bytes.AsSpan(Math.Min(2, bytes.Length)).ToArray();
        for (int i = 0; i < data.Length; i++)
            data[i] ^= ModifyMask;
        return new RawOption(o.Kind, data);
    }
}
