using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// The exact Hessian of an MLP from its structure (<see cref="StructuralMlpHessian"/>, blockwise matrix products over
/// the samples) against the block-product build (p unit-vector products with the analytic engine, 64 per block; the
/// baseline), on the paper's 2-100-100-3 ReLU model (p = 10,703, 300 three-Gaussian points, trained) and the 1.3k tanh
/// MLP (smooth activation: σ″ residual terms). Float64, one batch, cached operator. GlobalSetup checks that both builds
/// agree to 1e-12 of max|H| before anything is timed, then times them alternately, by the wall clock and by thread CPU
/// time (issue #17, goal 2: ≥ 5×).
/// Slow cases: Monitoring strategy, no warm-up, two measured iterations of one invocation each.
/// </summary>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(0)]
[IterationCount(2)]
public class StructuralExactHessianBenchmarks
{
    private LossHessianOperator op = null!;

    /// <summary>p = 10,703 (ReLU) and p = 1,315 (tanh); a 355-parameter stand-in in the dry pass.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Paper10k;

    /// <summary>The problems.</summary>
    public static IEnumerable<BenchmarkProblem> Problems => BenchmarkSettings.Choose([BenchmarkProblems.Paper10k, BenchmarkProblems.Trained1315], [BenchmarkProblems.Dry]);

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        CaseMetrics.Once(this, "validate", Validate);
        NativeMemoryProbe.ProbeAll(this, repeats: 0, warmUp: false);
    }

    /// <summary>Both builds must agree to 1e-12 of max|H|; then both are timed alternately, a few rounds (each block build takes minutes at p = 10,703 on a loaded machine).</summary>
    private void Validate()
    {
        using (var scope = NewDisposeScope())
        {
            var structural = ExactHessian.Build(op, build: ExactHessianBuild.Structural);
            var blocks = ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts);
            var scale = blocks.Matrix.abs().max().item<double>();
            var difference = (structural.Matrix - blocks.Matrix).abs().max().item<double>() / scale;
            if (!(difference <= 1e-12))
                throw new InvalidOperationException($"The structural Hessian differs from the block-product build by {difference:E2} of max|H|; refusing to time it.");
            CaseMetrics.RecordForAll(this, "Max abs. diff", $"{difference:0.0e0} of max|H|");
            CaseMetrics.Record(this, nameof(Structural), "HVPs", structural.OperatorApplications.ToString(CultureInfo.InvariantCulture));
            CaseMetrics.Record(this, nameof(BlockProducts), "HVPs", blocks.OperatorApplications.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine($"// {Problem}: {structural.Note}");
        }
        var (ratio, cpuRatio) = Interleaved(BlockProducts, Structural, BenchmarkSettings.IsDry ? 1 : op.Dimension > 5000 ? 3 : 5);
        Console.WriteLine($"// {Problem}: structural / block products, interleaved: {ratio}; thread CPU time: {cpuRatio}");
        CaseMetrics.Record(this, nameof(Structural), InterleavedRatio.Column, ratio);
        CaseMetrics.Record(this, nameof(Structural), InterleavedRatio.CpuColumn, cpuRatio);
    }

    /// <summary>
    /// <see cref="InterleavedRatio"/>'s measurement with a fixed, small number of rounds (its 15-round minimum would take
    /// an hour here): baseline and operation alternately, median of the per-round ratios, by the wall clock and by the
    /// calling thread's CPU time (<see cref="ThreadCpuClock"/>; libtorch runs on one thread here, so on a loaded machine
    /// the CPU-time ratio is the one that does not depend on the other processes).
    /// </summary>
    private static (string Wall, string Cpu) Interleaved(Action baseline, Action operation, int rounds)
    {
        var baselines = new List<double>();
        var operations = new List<double>();
        var baselineCpu = new List<double>();
        var operationCpu = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var cpu = ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() : 0;
            var clock = Stopwatch.StartNew();
            baseline();
            baselines.Add(clock.Elapsed.TotalSeconds);
            baselineCpu.Add(ThreadCpuClock.IsAvailable ? (ThreadCpuClock.Milliseconds() - cpu) / 1000 : double.NaN);
            cpu = ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() : 0;
            clock.Restart();
            operation();
            operations.Add(clock.Elapsed.TotalSeconds);
            operationCpu.Add(ThreadCpuClock.IsAvailable ? (ThreadCpuClock.Milliseconds() - cpu) / 1000 : double.NaN);
        }
        return (Summary(operations, baselines, rounds), ThreadCpuClock.IsAvailable ? Summary(operationCpu, baselineCpu, rounds) : "n/a");
    }

    private static string Summary(List<double> operations, List<double> baselines, int rounds)
    {
        var ratios = operations.Zip(baselines, (o, b) => o / b).Order().ToArray();
        var median = ratios[ratios.Length / 2];
        return string.Create(CultureInfo.InvariantCulture,
            $"{median:0.000} (1/{1 / median:0.0}; {string.Join(" / ", operations.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))} s vs {string.Join(" / ", baselines.Select(t => t.ToString("0.0", CultureInfo.InvariantCulture)))} s; {rounds} rounds)");
    }

    [GlobalCleanup]
    public void Cleanup() => op.Dispose();

    [Benchmark(Baseline = true, Description = "block products (64 columns, analytic engine)")]
    public void BlockProducts()
    {
        using var scope = NewDisposeScope();
        ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts);
    }

    [Benchmark(Description = "structural (blockwise GEMMs)")]
    public void Structural()
    {
        using var scope = NewDisposeScope();
        ExactHessian.Build(op, build: ExactHessianBuild.Structural);
    }
}
