using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HessianGeometry.Benchmarks;
using HessianGeometry.Benchmarks.Infrastructure;
using TorchSharp;

// Usage: dotnet run -c Release --project benchmarks/HessianGeometry.Benchmarks -- [--dry] [--threads N] [--malloc-defaults] [BenchmarkDotNet args]
//   --dry              CI pass: one invocation per benchmark on small problems (proves every suite runs).
//   --threads N        libtorch intra-op threads (default 1; see docs/benchmarks.md for the 1-vs-2 comparison).
//   --malloc-defaults  HessianGeometryRuntime.TuneNativeHeap = false: glibc's own malloc thresholds (the before/after
//                      comparison in docs/benchmarks.md, "Model fixtures").
// The in-process toolchain is required: BenchmarkDotNet's default out-of-process build copies TorchSharp's native
// library unpatched, and it then fails to load on Debian 12 / Ubuntu 22.04 (see README, "Linux hosts"). It also lets
// [ParamsSource] members and the custom columns share this process's state (BenchmarkSettings, CaseMetrics).
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--dry")
        BenchmarkSettings.IsDry = true;
    else if (args[i] == "--malloc-defaults")
        HessianGeometry.HessianGeometryRuntime.TuneNativeHeap = false;
    else if (args[i] == "--threads" && i + 1 < args.Length)
        BenchmarkSettings.Threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else
        rest.Add(args[i]);
}

HessianGeometry.HessianGeometryRuntime.UseOptimisedMklKernels(); // first: MKL chooses its kernels at its first call
torch.set_num_threads(BenchmarkSettings.Threads);
Console.WriteLine($"// HessianGeometry benchmarks: torch threads = {torch.get_num_threads()}, {(BenchmarkSettings.IsDry ? "dry pass (small problems)" : "full problems")}, " +
    $"TuneNativeHeap = {HessianGeometry.HessianGeometryRuntime.TuneNativeHeap}");

// The in-process toolchain aborts a case after a timeout (5 minutes by default); the 10,703-parameter exact Hessian's
// setup and eigendecompositions take longer than that on 2 cores.
var toolchain = new InProcessEmitToolchain(BenchmarkSettings.IsDry ? TimeSpan.FromMinutes(5) : TimeSpan.FromHours(3), logOutput: true);
var job = BenchmarkSettings.IsDry
    ? Job.Dry.WithToolchain(toolchain).WithId("dry")
    : Job.ShortRun.WithToolchain(toolchain).WithId("short");
var config = DefaultConfig.Instance
    .AddJob(job)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator)
    // Room for "model · engine" parameter values (GgnBenchmarks) instead of BenchmarkDotNet's 20-character cut.
    .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40))
    .AddFilter(SkippedForAttribute.Filter())
    .AddColumn(
        new CaseMetricColumn("HVPs", "Operator applications (Hessian-vector products) of one invocation"),
        new CaseMetricColumn("Max rel. residual", "Largest relative residual ‖Av − λv‖/|λ| of the returned pairs (must be ≤ 1e-6)"),
        new CaseMetricColumn("Rel. error", "Mean |estimate − exact| / |exact| over the seeds named in the benchmark's doc"),
        new CaseMetricColumn("Per-row loop", "Time of the per-column HVP loop (measured, or ~extrapolated from a prefix of columns)"),
        new CaseMetricColumn(InterleavedRatio.Column, "Time / the baseline's, the two timed alternately in one loop (median of the per-round ratios; median times; minimum times; rounds)"),
        new CaseMetricColumn(InterleavedRatio.CpuColumn, "As the interleaved ratio, timed by the thread's CPU time instead of the wall clock (ModelHvpBenchmarks)"),
        new CaseMetricColumn("Bytes/product", "Payload bytes both ways per curvature product on the cluster (ClusterProductBenchmarks)"),
        new CaseMetricColumn("Max abs. diff", "Largest difference from the reference implementation (validated in GlobalSetup)"),
        new CaseMetricColumn(NativeMemoryProbe.PeakColumn, "Peak resident-memory growth during one invocation after malloc_trim (VmHWM − VmRSS; see NativeMemoryProbe)"),
        new CaseMetricColumn(NativeMemoryProbe.LiveColumn, "Live TorchSharp tensors gained over repeated invocations (must be 0)"),
        new CaseMetricColumn(NativeMemoryProbe.RssColumn, "Native resident growth (VmRSS − GC committed bytes, after malloc_trim) over repeated invocations"))
    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
IEnumerable<Summary> summaries;
try
{
    summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkMarker).Assembly).Run(rest.ToArray(), config).ToList();
}
finally
{
    // ClusterProductBenchmarks keeps its silos up across its cases; stop them so the process can end.
    HessianGeometry.Benchmarks.Distributed.BenchmarkCluster.StopAll();
}
Console.WriteLine($"// {HessianGeometry.HessianGeometryRuntime.DescribeNativeHeap()}");
foreach (var leak in NativeMemoryProbe.Leaks)
    Console.WriteLine($"// LEAK: {leak} stayed alive over repeated runs");
var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
return failed || !NativeMemoryProbe.Leaks.IsEmpty ? 1 : 0;
