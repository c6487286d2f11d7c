using BenchmarkDotNet.Running;
using TcpExposure.Benchmarks;

if (args.Length > 0 && args[0] == "--quick")
    QuickTimer.Run();
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
