using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Responder.Middlebox;

/// <summary>
/// Behaviours applied in order: whatever one emits (in either direction) is fed to the next.
/// Not thread-safe; the forwarder serialises calls.
/// </summary>
public sealed class MiddleboxPipeline(IReadOnlyList<IMiddleboxBehaviour> behaviours)
{
    private List<RoutedSegment> _a = [], _b = [];

    /// <summary>The behaviours, in the order a segment meets them.</summary>
    public IReadOnlyList<IMiddleboxBehaviour> Behaviours { get; } = behaviours;

    /// <summary>The shortest hold time any behaviour asks for now, or null when none holds anything.</summary>
    public TimeSpan? HoldTime
    {
        get
        {
            TimeSpan? min = null;
            foreach (var b in Behaviours)
                if (b.HoldTime is { } t && (min is null || t < min))
                    min = t;
            return min;
        }
    }

    /// <summary>Whether any behaviour might do anything to <paramref name="packet"/> but pass it on.</summary>
    public bool Touches(in PacketView packet, MiddleboxDirection direction)
    {
        // By index: enumerating the interface would allocate on every segment.
        for (int i = 0; i < Behaviours.Count; i++)
            if (Behaviours[i].Touches(packet, direction))
                return true;
        return false;
    }

    /// <summary>Runs one segment through every behaviour; the list returned is reused by the next call.</summary>
    public IReadOnlyList<RoutedSegment> Process(TcpSegment segment, MiddleboxDirection direction)
    {
        _a.Clear();
        _a.Add(new(segment, direction));
        return Run(0);
    }

    /// <summary>Releases what every behaviour holds, each release going through the behaviours after it.</summary>
    public IReadOnlyList<RoutedSegment> Flush()
    {
        var all = new List<RoutedSegment>();
        for (int i = 0; i < Behaviours.Count; i++)
        {
            _a.Clear();
            Behaviours[i].Flush(_a);
            if (_a.Count > 0)
                all.AddRange(Run(i + 1));
        }
        return all;
    }

    private List<RoutedSegment> Run(int from)
    {
        for (int i = from; i < Behaviours.Count; i++)
        {
            _b.Clear();
            foreach (var r in _a)
                Behaviours[i].Process(r.Segment, r.Direction, _b);
            (_a, _b) = (_b, _a);
        }
        return _a;
    }

    /// <inheritdoc/>
    public override string ToString() => Behaviours.Count == 0 ? "none" : string.Join(",", Behaviours.Select(b => b.Spec));
}
