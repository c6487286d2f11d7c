using CommandLine;
using TcpExposure.Craft.Legacy;

namespace TcpExposure.Tool.Commands;

/// <summary>The main job on a built-in default. Until the middlebox demo exists it crafts and prints example segments.</summary>
[Verb("demo", HelpText = "Run the main job on a built-in test network (for now: craft and print example segments).")]
public sealed class DemoCommand : ICommand
{
    public int Execute()
    {
        uint cli = LegacyCraft.ParseAddress("192.0.2.2"), srv = LegacyCraft.ParseAddress("192.0.2.1");
        var syn = LegacyCraft.MakeSegment(srv, cli, 80, 55555, 8192, 20000, 0, 0x02,
            [new("MSS", 512L), new("SACKOK", ""), new("TIMESTAMP", 12345L, 0L), new("WSCALE", 3L), new("NOP", "")], default, true);
        var data = LegacyCraft.MakeSegment(srv, cli, 80, 55555, 8192, 20001, 1, 0x18,
            [new("MP_DATA", 1L, 512L, 1L)], Enumerable.Repeat((byte)0x12, 512).ToArray(), true);
        var odd = LegacyCraft.MakeSegment(srv, cli, 80, 55555, 8192, 20001, 1, 0x02,
            [new("RAW", 200L, "cafe", 9L)], default, true);
        foreach (var pkt in new[] { syn, data, odd })
            Console.Write(LegacyCraft.SummarizePkt(pkt));
        return 0;
    }
}
