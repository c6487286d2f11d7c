using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace TcpExposure.Responder.Probe;

/// <summary>One test's line in the report.</summary>
/// <param name="Test">The legacy test name.</param>
/// <param name="Code">The result code (-1: not run).</param>
/// <param name="Meaning">What the code means.</param>
/// <param name="Evidence">What it was read from.</param>
/// <param name="Runs">How many runs it took for two to agree (0 for a test read from another's runs).</param>
/// <param name="Agreed">Two runs gave the same code.</param>
public sealed record ProbeResult(string Test, int Code, string Meaning, string Evidence, int Runs, bool Agreed);

/// <summary>What <see cref="ProbeSuite.RunAsync"/> found.</summary>
public sealed record ProbeReport(IPEndPoint Target, IPAddress Source, string Transport, DateTimeOffset Started, TimeSpan Elapsed,
    IReadOnlyList<ProbeResult> Results, string? StoppedEarly)
{
    /// <summary>The result of <paramref name="test"/>, or null when it was not run.</summary>
    public ProbeResult? this[string test] => Results.FirstOrDefault(r => r.Test == test);

    /// <summary>A plain-text table: test, code, meaning, evidence.</summary>
    public string ToTable()
    {
        int w1 = Math.Max(4, Results.Max(r => (int?)r.Test.Length) ?? 4);
        int w3 = Math.Max(7, Results.Max(r => (int?)r.Meaning.Length) ?? 7);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"probe {Target} from {Source} via {Transport}, {Elapsed.TotalSeconds:0.0} s\n");
        sb.Append(CultureInfo.InvariantCulture, $"{"test".PadRight(w1)}  code  {"meaning".PadRight(w3)}  evidence\n");
        foreach (var r in Results)
            sb.Append(CultureInfo.InvariantCulture, $"{r.Test.PadRight(w1)}  {r.Code,4}  {r.Meaning.PadRight(w3)}  {r.Evidence}{(r.Agreed || r.Runs == 0 ? "" : " (runs disagreed)")}\n");
        if (StoppedEarly is not null)
            sb.Append(CultureInfo.InvariantCulture, $"stopped early: {StoppedEarly}\n");
        return sb.ToString();
    }

    /// <summary>The same content as JSON, for measurement campaigns.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("target", Target.ToString());
            w.WriteString("source", Source.ToString());
            w.WriteString("transport", Transport);
            w.WriteString("started", Started);
            w.WriteNumber("elapsed_seconds", Math.Round(Elapsed.TotalSeconds, 3));
            if (StoppedEarly is null) w.WriteNull("stopped_early"); else w.WriteString("stopped_early", StoppedEarly);
            w.WriteStartArray("results");
            foreach (var r in Results)
            {
                w.WriteStartObject();
                w.WriteString("test", r.Test);
                w.WriteNumber("code", r.Code);
                w.WriteString("meaning", r.Meaning);
                w.WriteString("evidence", r.Evidence);
                w.WriteNumber("runs", r.Runs);
                w.WriteBoolean("agreed", r.Agreed);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
