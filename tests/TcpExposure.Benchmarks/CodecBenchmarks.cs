using BenchmarkDotNet.Attributes;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Packets;
using TcpExposure.Craft.Wire;

namespace TcpExposure.Benchmarks;

/// <summary>The figures: encode, parse with options, and a summary line, for the 160-byte SYN.</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class CodecBenchmarks
{
    private TcpSegment _segment = null!;
    private byte[] _buffer = null!;
    private byte[] _packet = null!;

    [GlobalSetup]
    public void Setup()
    {
        _segment = SynSegment.Create();
        _buffer = new byte[2048];
        _packet = _segment.ToArray();
        if (_packet.Length != 160)
            throw new InvalidOperationException($"The reference SYN is {_packet.Length} bytes, not 160.");
    }

    /// <summary>
    /// Whole packet into a caller's buffer: IP header, options, payload, both checksums. The segment
    /// is immutable, so from its second encode on it copies its cached header bytes (IP checksum
    /// included) and sums only the payload, copied and summed in one pass, into the TCP checksum.
    /// </summary>
    [Benchmark]
    public int EncodeSyn() => _segment.Encode(_buffer);

    /// <summary>
    /// The same bytes by the field-by-field path a segment's first encode takes (no cached header
    /// template): what building a new segment per packet and sending it once costs, less the allocation.
    /// </summary>
    [Benchmark]
    public int EncodeSynFirst() => _segment.TryEncodeDirect(_buffer, out int n) ? n : -1;

    /// <summary>IP + TCP headers read in place and every option the SYN carries read into a struct.</summary>
    [Benchmark]
    public int ParseSyn()
    {
        if (PacketView.TryParse(_packet, out var view) != PacketStatus.Tcp)
            return -1;
        var tcp = view.Tcp;
        var opts = TcpOptionSummary.Read(tcp.OptionBytes);
        return tcp.SourcePort + tcp.Window + (int)tcp.Sequence.Value + opts.Mss + opts.WindowScale
            + (opts.SackPermitted ? 1 : 0) + (int)opts.TsValue + tcp.Payload.Length;
    }

    /// <summary>The legacy summary line (summarize_pkt) from the packet bytes.</summary>
    [Benchmark]
    public string SummaryLine() => LegacyCraft.SummarizePkt(_packet);

    /// <summary>For reference: the full typed parse into an immutable segment value (allocates).</summary>
    [Benchmark]
    public SegmentParseResult ParseToSegment() => SegmentParser.Parse(_packet);

    /// <summary>For reference: the legacy parse_headers (allocates the legacy objects).</summary>
    [Benchmark]
    public LegacyParsed LegacyParseHeaders() => LegacyCraft.ParseHeaders(_packet);
}
