using System.Globalization;
using System.Text;
using TcpExposure.Craft.Options;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Stateful.Tests;

/// <summary>A segment the connection emitted, copied out of the sink.</summary>
internal sealed record Sent(TimeSpan At, uint Seq, uint Ack, TcpFlags Flags, ushort Window, SegmentOptions Options, byte[] Payload);

internal sealed class RecordingSink(Func<TimeSpan> clock) : ISegmentSink
{
    public readonly List<Sent> Segments = [];

    public void Send(in OutgoingSegment s)
    {
        var payload = new byte[s.PayloadLength];
        s.Payload1.CopyTo(payload);
        s.Payload2.CopyTo(payload.AsSpan(s.Payload1.Length));
        Segments.Add(new Sent(clock(), s.Sequence.Value, s.Acknowledgment.Value, s.Flags, s.Window, s.Options, payload));
    }
}

/// <summary>
/// Drives one <see cref="TcpConnection"/> the way packetdrill drives a kernel: segments in at a
/// virtual time, and the segments out printed packetdrill-style with sequence numbers relative to
/// each side's ISN ("S. 0:0(0) ack 1 win 65535 &lt;mss 1460&gt;").
/// </summary>
internal sealed class ConnectionHarness
{
    public const uint OurIsn = 1_000_000;
    public const uint PeerIsn = 7_000_000;

    public TimeSpan Now;
    public readonly TcpConnection Conn;
    public readonly RecordingSink Sink;
    private int _drained;

    public ConnectionHarness(TcpConfig config)
    {
        Sink = new RecordingSink(() => Now);
        Conn = new TcpConnection(config with { IsnGenerator = new FixedIsnGenerator(OurIsn) }, Sink, OurIsn);
    }

    /// <summary>Packetdrill-like defaults: no options beyond MSS, ACK at once, min RTO 300 ms.</summary>
    public static TcpConfig Plain => new()
    {
        Mss = 1000,
        ReceiveBufferSize = 65535,
        SendBufferSize = 65536,
        WindowScaling = false,
        Timestamps = false,
        Sack = false,
        DelayedAck = TimeSpan.Zero,
        TailLossProbe = false,
        MinRto = TimeSpan.FromMilliseconds(300),
        InitialRto = TimeSpan.FromSeconds(1),
    };

    /// <summary>Runs every timer due up to <paramref name="seconds"/> (absolute), then sets the clock there.</summary>
    public void At(double seconds) => AdvanceTo(TimeSpan.FromSeconds(seconds));

    public void AdvanceTo(TimeSpan t)
    {
        while (Conn.NextDeadline is { } d && d <= t)
        {
            Now = d > Now ? d : Now;
            Conn.Poll(Now);
        }
        Now = t;
    }

    public void Plus(double seconds) => AdvanceTo(Now + TimeSpan.FromSeconds(seconds));

    /// <summary>
    /// Injects a segment. <paramref name="flags"/> in packetdrill letters (S F R P, '.' for ACK);
    /// <paramref name="seq"/> relative to the peer's ISN, <paramref name="ack"/> relative to ours.
    /// </summary>
    public void In(string flags, uint seq, int len = 0, uint? ack = null, ushort win = 65535,
        SegmentOptions? options = null, byte[]? payload = null)
    {
        var f = ParseFlags(flags);
        if (ack is not null) f |= TcpFlags.Ack;
        payload ??= Pattern(seq, len);
        var seg = new IncomingSegment(PeerIsn + seq, ack is null ? 0u : OurIsn + ack.Value, f, win,
            options ?? SegmentOptions.None, payload);
        Conn.Process(seg, Now);
    }

    /// <summary>Payload bytes that encode their own relative sequence number, so reads can be checked.</summary>
    public static byte[] Pattern(uint seq, int len)
    {
        var b = new byte[len];
        for (int i = 0; i < len; i++)
            b[i] = (byte)((seq + i) * 7 + 3);
        return b;
    }

    /// <summary>The segments emitted since the last call, formatted.</summary>
    public string[] Out()
    {
        var list = Sink.Segments.Skip(_drained).Select(Format).ToArray();
        _drained = Sink.Segments.Count;
        return list;
    }

    /// <summary>The segments emitted since the last call, with the time they left.</summary>
    public (double At, string Segment)[] OutTimed()
    {
        var list = Sink.Segments.Skip(_drained).Select(s => (Math.Round(s.At.TotalSeconds, 6), Format(s))).ToArray();
        _drained = Sink.Segments.Count;
        return list;
    }

    public Sent[] OutRaw()
    {
        var list = Sink.Segments.Skip(_drained).ToArray();
        _drained = Sink.Segments.Count;
        return list;
    }

    /// <summary>Completes a passive open: LISTEN, SYN in, SYN-ACK out, ACK in.</summary>
    public void PassiveOpen(ushort peerMss = 1000, ushort win = 65535, SegmentOptions? synOptions = null)
    {
        Conn.Listen();
        var o = synOptions ?? SegmentOptions.None;
        if (synOptions is null) o.Mss = peerMss;
        In("S", 0, win: win, options: o);
        Out();
        Plus(0.1);
        In(".", 1, ack: 1, win: win);
        Out();
        Assert.That(Conn.State, Is.EqualTo(TcpState.Established));
    }

    public static string Format(Sent s)
    {
        var sb = new StringBuilder();
        sb.Append(FlagString(s.Flags));
        uint rel = unchecked(s.Seq - OurIsn);
        if (s.Flags.Has(TcpFlags.Rst) && !s.Flags.Has(TcpFlags.Ack) || (s.Flags.Has(TcpFlags.Rst) && s.Seq == 0))
            rel = s.Seq == 0 ? 0 : rel;
        int len = s.Payload.Length;
        sb.Append(CultureInfo.InvariantCulture, $" {rel}:{unchecked(rel + (uint)len)}({len})");
        if (s.Flags.Has(TcpFlags.Ack))
            sb.Append(CultureInfo.InvariantCulture, $" ack {unchecked(s.Ack - PeerIsn)}");
        sb.Append(CultureInfo.InvariantCulture, $" win {s.Window}");
        var opts = new List<string>();
        var o = s.Options;
        if (o.Mss != 0) opts.Add($"mss {o.Mss}");
        if (o.SackPermitted) opts.Add("sackOK");
        if (o.HasTimestamps) opts.Add($"TS val {o.TsVal} ecr {o.TsEcr}");
        if (o.WindowScale >= 0) opts.Add($"wscale {o.WindowScale}");
        if (o.SackCount > 0)
            opts.Add("sack " + string.Join(" ", o.Sacks.ToArray().Select(b => $"{unchecked(b.Left.Value - PeerIsn)}:{unchecked(b.Right.Value - PeerIsn)}")));
        if (opts.Count > 0)
            sb.Append(" <").Append(string.Join(",", opts)).Append('>');
        return sb.ToString();
    }

    private static string FlagString(TcpFlags f)
    {
        var sb = new StringBuilder();
        if (f.Has(TcpFlags.Fin)) sb.Append('F');
        if (f.Has(TcpFlags.Syn)) sb.Append('S');
        if (f.Has(TcpFlags.Rst)) sb.Append('R');
        if (f.Has(TcpFlags.Psh)) sb.Append('P');
        if (f.Has(TcpFlags.Ack)) sb.Append('.');
        return sb.ToString();
    }

    private static TcpFlags ParseFlags(string s)
    {
        var f = TcpFlags.None;
        foreach (char c in s)
            f |= c switch
            {
                'S' => TcpFlags.Syn,
                'F' => TcpFlags.Fin,
                'R' => TcpFlags.Rst,
                'P' => TcpFlags.Psh,
                '.' => TcpFlags.Ack,
                _ => throw new ArgumentException($"flag letter {c}"),
            };
        return f;
    }

    public static SegmentOptions Opts(ushort mss = 0, int wscale = -1, bool sackOk = false, (uint Val, uint Ecr)? ts = null,
        params (uint Left, uint Right)[] sacks)
    {
        var o = SegmentOptions.None;
        o.Mss = mss;
        o.WindowScale = wscale;
        o.SackPermitted = sackOk;
        if (ts is { } t) { o.HasTimestamps = true; o.TsVal = t.Val; o.TsEcr = t.Ecr; }
        foreach (var (l, r) in sacks)
            o.SackBlocks[o.SackCount++] = new SackBlock(OurIsn + l, OurIsn + r);
        return o;
    }
}
