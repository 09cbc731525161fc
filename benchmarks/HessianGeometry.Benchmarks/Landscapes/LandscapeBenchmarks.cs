using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Benchmarks.Landscapes;

/// <summary>
/// One grid point of a loss landscape against one loss evaluation on the paper's model (2-100-100-3 ReLU, 10,703
/// parameters, float64, 300 samples, one batch). A grid point writes θ* + α d into the parameters in place and runs the
/// same forward passes as <see cref="EmpiricalRisk.Loss"/>, so the ratio should be ≈ 1: what is left is the parameter
/// write and, spread over the 25 points, the snapshot and bitwise restore of the model (timed alone against one loss
/// evaluation and written to the log). Baseline: <see cref="EmpiricalRisk.Loss"/>.
/// </summary>
[MemoryDiagnoser]
public class LandscapeBenchmarks
{
    private const int Steps = 25;
    private Sequential model = null!;
    private EmpiricalRisk risk = null!;
    private LandscapeDirections directions = null!;

    [GlobalSetup]
    public void Setup()
    {
        var problem = BenchmarkSettings.IsDry ? BenchmarkProblems.Dry : BenchmarkProblems.Paper10k;
        var (m, x, y) = problem.Create();
        model = m;
        risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        directions = FilterNormalizedDirections.Create(risk.AnalysisParameters, 1, seed: 1);
        CaseMetrics.Once(this, "validate", Validate);
        CaseMetrics.Once(this, "interleaved", () => CaseMetrics.Record(this, nameof(GridPoint), InterleavedRatio.Column,
            InterleavedRatio.Measure(() => risk.Loss(), () => Grid(), perInvoke: Steps)));
        CaseMetrics.Once(this, "calibration", () =>
        {
            // Diagnostics for the interleaved ratio: 25 plain loss evaluations, and 25 (parameter write + loss evaluation).
            Console.WriteLine($"// LandscapeBenchmarks: 25 × loss / 25 vs loss = {InterleavedRatio.Measure(() => risk.Loss(), () => Repeat(() => risk.Loss()), perInvoke: Steps)}");
            using var scope = NewDisposeScope();
            var theta = risk.AnalysisParameters.GetValues();
            Console.WriteLine($"// LandscapeBenchmarks: 25 × (write θ + loss) / 25 vs loss = {InterleavedRatio.Measure(() => risk.Loss(), () => Repeat(() => { risk.AnalysisParameters.SetValues(theta); risk.Loss(); }), perInvoke: Steps)}");
        });
        CaseMetrics.Once(this, "fixed cost", () => Console.WriteLine(
            $"// LandscapeBenchmarks: snapshot + restore of the model / one loss evaluation = {InterleavedRatio.Measure(() => risk.Loss(), () => new ModelStateSnapshot(model).Dispose())}"));
    }

    /// <summary>The grid's centre must be L(θ*) exactly and the model must be left bitwise as it was; otherwise nothing is timed.</summary>
    private void Validate()
    {
        var result = Grid();
        if (result.CenterLoss != risk.Loss())
            throw new InvalidOperationException($"The landscape's centre loss {result.CenterLoss:R} differs from L(θ*) = {risk.Loss():R}; refusing to time it.");
    }

    private static void Repeat(Action action)
    {
        for (var i = 0; i < Steps; i++)
            action();
    }

    private LandscapeResult Grid() => LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = Steps, Span = 0.5 });

    [Benchmark(Baseline = true, Description = "one loss evaluation")]
    public double Loss() => risk.Loss();

    [Benchmark(OperationsPerInvoke = Steps, Description = "one grid point (25-point grid / 25)")]
    public double GridPoint() => Grid().CenterLoss;

    [GlobalCleanup]
    public void Cleanup()
    {
        directions.Dispose();
        risk.Dispose();
    }
}
