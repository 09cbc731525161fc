using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HutchinsonEstimator = HessianGeometry.Spectrum.Hutchinson;

namespace HessianGeometry.Benchmarks.Spectrum;

/// <summary>
/// What the per-layer traces and the stochastic diagonal add to a Hutchinson trace run at the same probe count m: the
/// same m HVPs (validated), plus per probe block one sum per layer and a Welford update of two [p] vectors. Baseline:
/// <see cref="HutchinsonEstimator.TraceAndTraceOfSquare"/>; the interleaved ratio (both timed in turn) is the measure
/// under load. Problem: the 1,315-parameter MLP (3 layers) trained 100 steps, float64, cached graph.
/// </summary>
[MemoryDiagnoser]
public class BlockHutchinsonBenchmarks
{
    private LossHessianOperator op = null!;
    private IReadOnlyList<ParameterGroup> groups = [];

    /// <summary>m, the probes (HVPs) of one estimate.</summary>
    [Params(40)]
    public int Probes { get; set; } = 40;

    private TraceOptions Options => new() { MinProbes = Probes, MaxProbes = Probes, RelativeStandardError = 0, BlockSize = 8, Seed = 1 };

    [GlobalSetup]
    public void Setup()
    {
        var problem = BenchmarkSettings.IsDry ? BenchmarkProblems.Dry : BenchmarkProblems.Trained1315;
        var (model, x, y) = problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        groups = ParameterGroups.ByModule(op.Parameters);
        CaseMetrics.Once(this, "validate", Validate);
    }

    /// <summary>Both spend exactly m HVPs and give the same trace; then the interleaved time ratio.</summary>
    private void Validate()
    {
        var before = op.ApplicationCount;
        var (trace, _) = HutchinsonEstimator.TraceAndTraceOfSquare(op, Options);
        var plain = op.ApplicationCount - before;
        before = op.ApplicationCount;
        using var blocks = BlockHutchinson.Estimate(op, groups, diagonal: true, Options);
        var withBlocks = op.ApplicationCount - before;
        if (plain != Probes || withBlocks != Probes || blocks.Trace.Value != trace.Value)
            throw new InvalidOperationException($"Hutchinson spent {plain} HVPs and the block estimate {withBlocks} (budget {Probes}); traces {trace.Value} vs {blocks.Trace.Value}.");
        CaseMetrics.Record(this, nameof(Hutchinson), "HVPs", plain.ToString(CultureInfo.InvariantCulture));
        CaseMetrics.Record(this, nameof(LayersAndDiagonal), "HVPs", withBlocks.ToString(CultureInfo.InvariantCulture));
        var ratio = InterleavedRatio.Measure(() => Hutchinson(), () => LayersAndDiagonal());
        CaseMetrics.Record(this, nameof(LayersAndDiagonal), InterleavedRatio.Column, ratio);
        CaseMetrics.Record(this, nameof(Hutchinson), InterleavedRatio.Column, "1.00");
        Console.WriteLine($"// interleaved: block Hutchinson ({groups.Count} layers + diagonal, p = {op.Dimension}, m = {Probes}): {ratio}");
    }

    [GlobalCleanup]
    public void Cleanup() => op.Dispose();

    [Benchmark(Baseline = true, Description = "Hutchinson tr H, tr H²")]
    public double Hutchinson() => HutchinsonEstimator.TraceAndTraceOfSquare(op, Options).Trace.Value;

    [Benchmark(Description = "+ layer traces + diagonal")]
    public double LayersAndDiagonal()
    {
        using var result = BlockHutchinson.Estimate(op, groups, diagonal: true, Options);
        return result.BlockTraces[0].Value;
    }
}
