using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// The exact (dense) Hessian: built from block HVPs (<see cref="ExactHessian.Compute"/>, 64 columns per block) and
/// diagonalised with <c>torch.linalg.eigh</c>, against the per-row loop (one <c>Apply(e_j)</c> per column). Problems:
/// p = 1,315 (MLP 4-32-32-3, 512 samples, trained 100 steps) and p = 10,703 (the paper's 2-100-100-3 ReLU MLP on the
/// 300-point three-Gaussian set, trained 300 steps); float64, one batch, so the operator caches its first-order graph.
/// <list type="bullet">
/// <item>"per-row loop": Apply(e_j) on the same cached operator: p separate calls.</item>
/// <item>"per-row loop, recomputed": Apply(e_j) on a graph-mode Streamed operator, so every row pays forward + first
/// backward + double backward (what an HVP costs without a graph cache, e.g. PyHessian's per-row loop). Timed at
/// p = 1,315 only; at p = 10,703 its column "Per-row loop" extrapolates from the first 256 rows, timed once in
/// GlobalSetup (at p = 1,315 the same extrapolation can be checked against the measured loop).</item>
/// </list>
/// Slow cases (eigh of a 10,703² matrix takes about 3 minutes on one core): Monitoring strategy, no warm-up, two measured
/// iterations of one invocation each; the memory probe runs each operation once more, without its warm-up run.
/// </summary>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(0)]
[IterationCount(2)]
public class ExactHessianBenchmarks
{
    /// <summary>Rows timed for the extrapolated per-row loop.</summary>
    public const int PrefixRows = 256;

    private LossHessianOperator op = null!;
    private LossHessianOperator recomputed = null!;

    /// <summary>p ≈ 1.3k and p ≈ 10.7k; a 355-parameter stand-in in the dry pass.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Trained1315;

    /// <summary>The problems.</summary>
    public static IEnumerable<BenchmarkProblem> Problems => BenchmarkSettings.Choose([BenchmarkProblems.Trained1315, BenchmarkProblems.Paper10k], [BenchmarkProblems.Dry]);

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        recomputed = BenchmarkProblems.Operator(model, x, y, mode: HessianGraphMode.Streamed);
        CaseMetrics.Once(this, "validate", Validate);
        NativeMemoryProbe.ProbeAll(this, repeats: 0, warmUp: false);
    }

    /// <summary>
    /// The block-built matrix must match per-row products (on a prefix of columns for speed) and be symmetric to rounding;
    /// also times the recomputed per-row loop on a prefix and extrapolates it to all p rows.
    /// </summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var p = op.Dimension;
        var matrix = ExactHessian.Compute(op);
        var rows = (int)Math.Min(PrefixRows, p);
        var clock = Stopwatch.StartNew();
        var prefix = PerRow(recomputed, rows);
        var perRowSeconds = clock.Elapsed.TotalSeconds * p / rows;
        var scale = matrix.abs().max().item<double>();
        var difference = (matrix.narrow(1, 0, rows) - prefix).abs().max().item<double>() / scale;
        var asymmetry = (matrix - matrix.T).abs().max().item<double>() / scale;
        if (!(difference < 1e-10) || !(asymmetry < 1e-10))
            throw new InvalidOperationException($"The block-built Hessian differs from per-row products by {difference:E2} (asymmetry {asymmetry:E2}) relative to max|H|; refusing to time it.");
        CaseMetrics.RecordForAll(this, "Max abs. diff", $"{difference:0.0e0} of max|H|");
        var label = rows == p ? $"{perRowSeconds:0.00} s (timed once)" : $"~{perRowSeconds:0.0} s (from {rows} rows)";
        CaseMetrics.Record(this, nameof(PerRowLoopRecomputed), "Per-row loop", label);
        CaseMetrics.Record(this, nameof(BlockHvps), "Per-row loop", $"recomputed: {label}");
    }

    /// <summary>Columns H e_j, j &lt; <paramref name="rows"/>, one Apply each.</summary>
    private static Tensor PerRow(LossHessianOperator hessian, int rows)
    {
        using var scope = NewDisposeScope();
        var p = hessian.Dimension;
        var result = empty(p, rows, dtype: ScalarType.Float64);
        for (var j = 0; j < rows; j++)
        {
            using var step = NewDisposeScope();
            var e = zeros(p, dtype: hessian.DType);
            e[j] = 1.0;
            result[.., j].copy_(hessian.Apply(e));
        }
        return result.MoveToOuterDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        op.Dispose();
        recomputed.Dispose();
    }

    [Benchmark(Baseline = true, Description = "per-row loop")]
    public void PerRowLoop()
    {
        using var scope = NewDisposeScope();
        PerRow(op, (int)op.Dimension);
    }

    [Benchmark(Description = "per-row loop, recomputed")]
    [SkippedFor(nameof(Problem), "2-100-100-3/gauss3", "10,703 rows × (forward + backward + double backward), about 30 s per run on top of a 20-minute suite; measured at p = 1,315 and extrapolated here from 256 rows (column Per-row loop)")]
    public void PerRowLoopRecomputed()
    {
        using var scope = NewDisposeScope();
        PerRow(recomputed, (int)recomputed.Dimension);
    }

    [Benchmark(Description = "block HVPs (64 columns)")]
    public void BlockHvps()
    {
        using var scope = NewDisposeScope();
        ExactHessian.Compute(op);
    }

    [Benchmark(Description = "block HVPs + eigh")]
    public void BuildAndEigh()
    {
        using var scope = NewDisposeScope();
        using var dense = ExactHessian.Materialize(op);
        linalg.eigh(dense.Matrix);
    }
}
