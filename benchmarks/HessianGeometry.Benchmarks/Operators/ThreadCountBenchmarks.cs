using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// Goal 5 of issue #17: what a second libtorch intra-op thread buys for the paper pipeline's two product stages, one
/// Hessian-vector product and the exact Hessian (block HVPs, and the structural build the analysis uses for MLPs), on the paper's
/// architecture (2-H-H-3 ReLU, 300 three-Gaussian points, float64). The decomposition's 1 vs 2 threads are in
/// <see cref="EigenSolvers.DenseEigenDecompositionBenchmarks"/>. Baseline: one HVP (the Ratio column then compares
/// the exact build with p HVPs' worth of time). Compare the same method across the Threads rows.
/// </summary>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(1)]
[IterationCount(3)]
public class ThreadCountBenchmarks
{
    private LossHessianOperator op = null!;
    private Tensor vector = null!;

    /// <summary>2-50-50-3 (p = 2,853) and the paper's 2-100-100-3 (p = 10,703); the dry stand-in in the dry pass; HG_BENCH_MIN_P / HG_BENCH_MAX_P select sizes.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Paper10k;

    /// <summary>The problems.</summary>
    public static IEnumerable<BenchmarkProblem> Problems
    {
        get => BenchmarkProblems.PaperSizes;
    }

    /// <summary>libtorch intra-op threads; the suite's --threads is restored afterwards.</summary>
    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.Threads);
        var (model, x, y) = Problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        vector = randn(op.Dimension, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(5)).DetachFromDisposeScope();
        set_num_threads(Threads);
        CaseMetrics.Once(this, "validate-" + Threads, Validate);
    }

    /// <summary>The exact Hessian's product with a vector must equal the HVP at this thread count (1e-10 relative).</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var product = op.Apply(vector);
        var dense = ExactHessian.Compute(op).mv(vector);
        var error = ((dense - product).norm() / product.norm()).item<double>();
        if (!(error <= 1e-10))
            throw new InvalidOperationException($"Exact Hessian · v differs from the HVP by {error:E2} at {Threads} threads; refusing to time it.");
        CaseMetrics.Record(this, nameof(ExactBuild), "Rel. error", error.ToString("0.0e0", CultureInfo.InvariantCulture));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        op.Dispose();
        vector.Dispose();
        set_num_threads(BenchmarkSettings.Threads);
    }

    [Benchmark(Baseline = true, Description = "one HVP")]
    public void Hvp()
    {
        using var product = op.Apply(vector);
    }

    [Benchmark(Description = "exact Hessian (block HVPs)")]
    public void ExactBuild()
    {
        using var matrix = ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts).Matrix;
    }

    [Benchmark(Description = "exact Hessian (structural)")]
    public void StructuralBuild()
    {
        using var matrix = ExactHessian.Build(op, build: ExactHessianBuild.Structural).Matrix;
    }
}
