using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HessianGeometry.Benchmarks;

// The in-process toolchain is required: BenchmarkDotNet's default out-of-process build copies TorchSharp's native
// library unpatched, and it then fails to load on Debian 12 / Ubuntu 22.04 (see README, "Linux hosts").
var dry = args.Contains("--dry");
var rest = args.Where(a => a != "--dry").ToArray();
var job = dry
    ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("dry")
    : Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("short");
var config = DefaultConfig.Instance
    .AddJob(job)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator)
    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkMarker).Assembly).Run(rest, config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
