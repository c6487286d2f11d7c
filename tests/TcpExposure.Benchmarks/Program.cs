using BenchmarkDotNet.Running;
using TcpExposure.Benchmarks;

// --quick: a fast best-of-batches timing while optimizing; --hex: the reference SYN (scripts/bench_scapy.py
// checks that scapy builds the same bytes); anything else goes to BenchmarkDotNet.
if (args is ["--quick"])
    QuickTimer.Run();
else if (args is ["--hex"])
    Console.WriteLine(Convert.ToHexStringLower(SynSegment.Create().ToArray()));
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
