using BenchmarkDotNet.Running;
using TcpExposure.Benchmarks;

// --quick [NAME...]: a fast best-of-batches timing while optimizing (only the named pieces when given);
// --loop NAME SECONDS: one piece in a tight loop, to profile (perf) or disassemble;
// --hex: the reference SYN (scripts/bench_scapy.py checks that scapy builds the same bytes);
// anything else goes to BenchmarkDotNet.
if (args is ["--quick", .. var only])
    QuickTimer.Run(only);
else if (args is ["--loop", var name, var seconds])
    QuickTimer.Loop(name, double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture));
else if (args is ["--hex"])
    Console.WriteLine(Convert.ToHexStringLower(SynSegment.Create().ToArray()));
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
