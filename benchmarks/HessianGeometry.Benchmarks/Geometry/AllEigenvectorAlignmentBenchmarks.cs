using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Geometry;

/// <summary>
/// Goal 1 of issue #17: the alignment of ALL p eigenvectors (the complete boundary complexity) on the paper's model
/// (2-100-100-3 ReLU, p = 10,703, float64) with n = 150 three-Gaussian inputs (every other point of the 300). V is a
/// seeded Gaussian p×p matrix with unit columns: the cost does not depend on which basis it is.
/// Baseline: the bare product G·V of a precomputed n×p gradient matrix (the "GEMM-time"). Against it:
/// <see cref="AlignmentMatrix.Compute"/> (gradients, norms, blocked GEMM, statistics). The previous route,
/// <see cref="AlignmentAnalyzer.Compute"/> with its per-layer contractions, is timed once in the setup (column
/// "Per-row loop" is not used; see "Old analyzer, once"). The authors' loop is timed by
/// benchmarks/reference/paper_alignment_loop.py in the same run (benchmarks/reference/run_speed_goals.sh).
/// Targets: AlignmentMatrix ≤ 2 GEMM-times, ≥ 10× faster than the authors' loop.
/// </summary>
/// <remarks>Slow cases (a 10,703² GEMM): Monitoring strategy, no warm-up, two measured iterations of one invocation each.</remarks>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(0)]
[IterationCount(2)]
public class AllEigenvectorAlignmentBenchmarks
{
    private LossHessianOperator op = null!;
    private Tensor inputs = null!;
    private Tensor vectors = null!;
    private Tensor gradients = null!;

    /// <summary>The paper's model at p = 10,703 and the same architecture at 50 hidden units (p = 2,853); the dry stand-in in the dry pass.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Paper10k;

    /// <summary>
    /// The problems, without those above the environment variable HG_BENCH_MAX_P (parameters) when it is set: the
    /// 10,703² product takes minutes on a loaded 2-core machine.
    /// </summary>
    public static IEnumerable<BenchmarkProblem> Problems
    {
        get => BenchmarkProblems.PaperSizes;
    }

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        using (var scope = NewDisposeScope())
        {
            var every = arange(0, x.shape[0], 2, dtype: ScalarType.Int64);
            inputs = x.index_select(0, every).DetachFromDisposeScope();
            op = BenchmarkProblems.Operator(model, inputs, y.index_select(0, every).DetachFromDisposeScope());
            var v = randn(op.Dimension, op.Dimension, dtype: ScalarType.Float64, generator: new Generator(3));
            vectors = (v / v.norm(0, keepdim: true)).contiguous().DetachFromDisposeScope();
            gradients = ReinforcingGradients.PerSample(op.Risk, inputs).DetachFromDisposeScope();
        }
        CaseMetrics.Once(this, "validate", Validate);
    }

    /// <summary>AlignmentMatrix must equal the batched analyzer on the first 256 columns (1e-12) before anything is timed; the old analyzer on all p is timed here once.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var prefix = vectors.narrow(1, 0, 256);
        using var gemm = AlignmentMatrix.Compute(op.Risk, inputs, prefix);
        using var batched = AlignmentAnalyzer.Compute(op.Risk, inputs, prefix);
        var difference = (gemm.Alignment - batched.Alignment).abs().max().item<double>();
        if (!(difference <= 1e-12))
            throw new InvalidOperationException($"AlignmentMatrix differs from AlignmentAnalyzer by {difference:E2}; refusing to time it.");
        CaseMetrics.Record(this, nameof(AlignmentMatrixAllP), "Max abs. diff", string.Create(CultureInfo.InvariantCulture, $"{difference:0.0e0}"));
        var clock = Stopwatch.StartNew();
        using (AlignmentAnalyzer.Compute(op.Risk, inputs, vectors))
            CaseMetrics.Record(this, nameof(AlignmentMatrixAllP), "Per-row loop", string.Create(CultureInfo.InvariantCulture, $"old analyzer, once: {clock.Elapsed.TotalSeconds:0.00} s"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        op.Dispose();
        inputs.Dispose();
        vectors.Dispose();
        gradients.Dispose();
    }

    [Benchmark(Baseline = true, Description = "GEMM G·V only (G given)")]
    public void Gemm()
    {
        using var product = gradients.mm(vectors);
    }

    [Benchmark(Description = "AlignmentMatrix, all p")]
    public void AlignmentMatrixAllP()
    {
        using var result = AlignmentMatrix.Compute(op.Risk, inputs, vectors);
    }
}
