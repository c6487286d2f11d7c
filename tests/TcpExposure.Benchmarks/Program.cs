using BenchmarkDotNet.Running;
using TcpExposure.Benchmarks;

// --quick [NAME...]: a fast best-of-batches timing while optimizing (only the named pieces when given); --hex: the reference SYN (scripts/bench_scapy.py
// checks that scapy builds the same bytes); anything else goes to BenchmarkDotNet.
if (args is ["--quick", .. var only])
    QuickTimer.Run(only);
else if (args is ["--hex"])
    Console.WriteLine(Convert.ToHexStringLower(SynSegment.Create().ToArray()));
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
