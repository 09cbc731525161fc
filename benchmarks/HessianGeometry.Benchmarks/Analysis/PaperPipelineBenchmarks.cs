using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Analysis;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Benchmarks.Analysis;

/// <summary>
/// Goal 4 of issue #17: the decision-boundary paper's complete pipeline through <see cref="HessianAnalysis"/>, what
/// <c>hessian-geometry analyze --solver exact --top 10 --alignment --margin</c> runs: exact Hessian, full
/// eigen-decomposition, alignment of all p eigenvectors with the complete complexity count (random-baseline ε), margin
/// along v₁. Baseline: the exact Hessian and its decomposition alone (<see cref="DenseEigenSolver.Decompose"/>), so the
/// ratio is what the rest of the pipeline adds. The authors' pipeline (benchmarks/reference/paper_pipeline.py) is timed
/// on the same architecture and data in the same run by benchmarks/reference/run_issue17_side_by_side.sh.
/// Problems: 2-50-50-3 and the paper's 2-100-100-3 (p = 10,703) ReLU on the 300 three-Gaussian points; a 2-16-16-3
/// stand-in in the dry pass. HG_BENCH_MIN_P / HG_BENCH_MAX_P select sizes.
/// </summary>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(0)]
[IterationCount(2)]
public class PaperPipelineBenchmarks
{
    private Sequential model = null!;
    private Tensor x = null!;
    private Tensor y = null!;

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Paper10k;

    /// <summary>The problems, limited by HG_BENCH_MIN_P / HG_BENCH_MAX_P.</summary>
    public static IEnumerable<BenchmarkProblem> Problems
    {
        get => BenchmarkProblems.PaperSizes;
    }

    [GlobalSetup]
    public void Setup()
    {
        (model, x, y) = Problem.Create();
        CaseMetrics.Once(this, "validate", Validate);
    }

    /// <summary>
    /// The pipeline's report must carry the exact decomposition's λ_max (1e-10 relative), a complexity count over all p
    /// eigenvectors and a finite margin before anything is timed; the counts and the decomposition route are recorded.
    /// </summary>
    private void Validate()
    {
        var report = Pipeline();
        using var spectrum = Decompose();
        var lambdaMax = spectrum.Eigenvalues[^1];
        var top = report.TopEigenpairs?.Eigenvalues[0] ?? double.NaN;
        var complexity = report.Complexity ?? throw new InvalidOperationException("The pipeline returned no complexity section; refusing to time it.");
        var margin = report.MarginDetails?.Margin ?? double.NaN;
        if (!(Math.Abs(top - lambdaMax) <= 1e-10 * Math.Abs(lambdaMax)) || complexity.EigenvectorsConsidered != spectrum.Dimension || !double.IsFinite(margin))
            throw new InvalidOperationException($"Pipeline check failed: λ_max {top} vs {lambdaMax}, eigenvectors considered {complexity.EigenvectorsConsidered} of {spectrum.Dimension}, margin {margin}; refusing to time it.");
        CaseMetrics.Record(this, nameof(Pipeline), "Max abs. diff", string.Create(CultureInfo.InvariantCulture,
            $"λmax {Math.Abs(top - lambdaMax):0.0e0}; G {complexity.EncodingCountMean}/{complexity.EncodingCountMax}; {report.TopEigenpairs?.Eigendecomposition?.MklCodePath}"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        x.Dispose();
        y.Dispose();
    }

    [Benchmark(Baseline = true, Description = "exact Hessian + eigh only")]
    public void ExactDecomposition()
    {
        using var spectrum = Decompose();
    }

    [Benchmark(Description = "analyze --solver exact --top 10 --alignment --margin")]
    public MinimumReport Pipeline() => HessianAnalysis.For(model)
        .WithLoss(LossFunction.CrossEntropy)
        .WithData(x, y)
        .UseSolver("exact")
        .TopEigenpairs(10)
        .Seed(0)
        .WithAlignment()
        .WithBoundaryComplexity()
        .WithMargin()
        .AnalyzeMinimum();

    private DenseSpectrum Decompose()
    {
        using var op = BenchmarkProblems.Operator(model, x, y);
        return new DenseEigenSolver().Decompose(op);
    }
}
