using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Spectrum;

/// <summary>
/// Exact tr(H) and tr(H²) of a one-hidden-layer network: the closed form (<see cref="OneHiddenLayerTraces"/>, O(n²)
/// in the samples, no HVPs) and the exact diagonal (<see cref="ExactHessianDiagonal"/>) against the dense Hessian from
/// block HVPs (<see cref="ExactHessian.Compute"/> + <see cref="ExactTraces.FromMatrix"/>, the baseline). Problems, float64,
/// one batch, trained 100 steps: MLP 4-64-3 (tanh, p = 515) on 512 blobs, where the closed form's n² pairs cost more
/// than p HVPs (n &gt; (d + c)²), and MLP 64-32-3 (tanh, p = 2,179) on 256 blobs, where they cost less. The column "Interleaved ratio" times
/// the closed form and the dense Hessian alternately in one loop. GlobalSetup checks the closed form against the dense
/// traces (1e-10 relative) before anything is timed.
/// </summary>
[MemoryDiagnoser]
public class ClosedFormTraceBenchmarks
{
    private LossHessianOperator op = null!;

    /// <summary>The one-hidden-layer problem (a 2-16-3 stand-in in the dry pass).</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = OneHidden515;

    /// <summary>MLP 4-64-3 (tanh), 515 parameters, n = 512 blobs, float64, trained 100 steps.</summary>
    public static BenchmarkProblem OneHidden515 { get; } = new("4-64-3/512", [4, 64, 3], "tanh", "blobs", 512, 1, 100, ScalarType.Float64);

    /// <summary>MLP 64-32-3 (tanh), 2,179 parameters, n = 256 blobs in 64 dimensions, float64, trained 100 steps.</summary>
    public static BenchmarkProblem OneHidden2179 { get; } = new("64-32-3/256", [64, 32, 3], "tanh", "blobs", 256, 1, 100, ScalarType.Float64);

    /// <summary>The problems.</summary>
    public static IEnumerable<BenchmarkProblem> Problems => BenchmarkSettings.Choose(
        [OneHidden515, OneHidden2179], [new BenchmarkProblem("2-16-3/gauss3", [2, 16, 3], "tanh", "gauss3", 300, 0, 50, ScalarType.Float64)]);

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        CaseMetrics.Once(this, "validate", Validate);
        NativeMemoryProbe.ProbeAll(this, repeats: 2);
    }

    private void Validate()
    {
        var dense = Dense();
        var closed = ClosedForm();
        var difference = Math.Max(Math.Abs(closed.Trace - dense.Trace) / Math.Abs(dense.Trace), Math.Abs(closed.TraceOfSquare - dense.TraceOfSquare) / dense.TraceOfSquare);
        if (!(difference < 1e-10))
            throw new InvalidOperationException($"The closed-form traces differ from the dense Hessian's by {difference:E2} relative; refusing to time them.");
        CaseMetrics.RecordForAll(this, "Max abs. diff", $"{difference:0.0e0} relative");
        CaseMetrics.Record(this, nameof(Dense), "HVPs", op.Dimension.ToString(CultureInfo.InvariantCulture));
        CaseMetrics.Record(this, nameof(ClosedForm), "HVPs", "0");
        CaseMetrics.Record(this, nameof(Diagonal), "HVPs", "0");
        CaseMetrics.Record(this, nameof(ClosedForm), InterleavedRatio.Column, InterleavedRatio.Measure(() => Dense(), () => ClosedForm()));
        CaseMetrics.Record(this, nameof(Diagonal), InterleavedRatio.Column, InterleavedRatio.Measure(() => Dense(), () => Diagonal()));
    }

    [GlobalCleanup]
    public void Cleanup() => op.Dispose();

    [Benchmark(Baseline = true, Description = "dense Hessian + traces")]
    public (double Trace, double TraceOfSquare) Dense()
    {
        using var scope = NewDisposeScope();
        return ExactTraces.FromMatrix(ExactHessian.Compute(op));
    }

    [Benchmark(Description = "closed form tr H, tr H²")]
    public ClosedFormTraces ClosedForm() =>
        OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out var reason) ?? throw new InvalidOperationException(reason);

    [Benchmark(Description = "exact diagonal")]
    public double Diagonal()
    {
        using var scope = NewDisposeScope();
        var diagonal = ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason) ?? throw new InvalidOperationException(reason);
        return diagonal.sum().item<double>();
    }
}
