using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Spmc.Bench.Micro.SmcTelemetryBenchmarks).Assembly).Run(args);
