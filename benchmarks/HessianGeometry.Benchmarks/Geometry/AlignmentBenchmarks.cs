using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Geometry;

/// <summary>
/// Eigenvector alignment A[j, i] = ⟨g(x_j), v_i⟩ / (‖g(x_j)‖‖v_i‖) for n = 4,096 inputs (a 64×64 grid over [−4, 4]², as
/// for a decision-boundary picture) and k = 20 directions on the paper's model (2-100-100-3 ReLU, 10,703 parameters,
/// float64, trained 300 steps). The directions are 20 seeded orthonormal vectors: the cost does not depend on which
/// directions they are. Baseline: the per-sample loop (one forward + backward per input through
/// <see cref="ReinforcingGradients.PerSample"/>, then G·V and the row norms of G). Against it: the batched
/// <see cref="AlignmentAnalyzer"/> with its closed-form Linear-layer path (default), and with the double-vjp pass for the
/// products (the path any other model takes; norms still closed-form). Target: batched ≥ 10× faster than the loop.
/// </summary>
[MemoryDiagnoser]
public class AlignmentBenchmarks
{
    private LossHessianOperator op = null!;
    private Tensor inputs = null!;
    private Tensor directions = null!;

    /// <summary>Grid side: 64 (n = 4,096); 16 (n = 256, on the small stand-in model) in the dry pass.</summary>
    public static int GridSide => BenchmarkSettings.IsDry ? 16 : 64;

    /// <summary>k, the number of directions.</summary>
    public const int Directions = 20;

    [GlobalSetup]
    public void Setup()
    {
        var problem = BenchmarkSettings.IsDry ? BenchmarkProblems.Dry : BenchmarkProblems.Paper10k;
        var (model, x, y) = problem.Create();
        op = BenchmarkProblems.Operator(model, x, y);
        using (var scope = NewDisposeScope())
        {
            var axis = linspace(-4, 4, GridSide, dtype: ScalarType.Float64);
            var grid = meshgrid([axis, axis], indexing: "ij");
            inputs = stack([grid[0].reshape(-1), grid[1].reshape(-1)], 1).to(op.DType).DetachFromDisposeScope();
            var (q, _) = linalg.qr(randn(op.Dimension, Directions, dtype: ScalarType.Float64, generator: new Generator(3)));
            directions = q.contiguous().DetachFromDisposeScope();
        }
        if (!ReinforcingGradients.CanUseLinearFastPath(op.Risk))
            throw new InvalidOperationException("The benchmark model must qualify for the closed-form Linear path.");
        CaseMetrics.Once(this, "validate", Validate);
        NativeMemoryProbe.ProbeAll(this, repeats: 1);
    }

    /// <summary>
    /// Both batched paths must reproduce the per-sample loop. Compared on the products ⟨g_j, v_i⟩ scaled by
    /// max_j ‖g_j‖·‖v_i‖ (tolerance 1e-10), not on the cosines: far from the boundary ‖g_j‖ falls to 1e-9 and the
    /// softmax − one-hot cancellation leaves relative rounding of ~1e-7 in g_j, which a cosine shows unscaled. The column
    /// gives both the scaled product difference and the largest cosine difference.
    /// </summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var reference = PerSampleAlignment();
        foreach (var (method, options) in new[] { (nameof(Batched), new AlignmentOptions()), (nameof(BatchedDoubleVjp), DoubleVjp) })
        {
            using var result = AlignmentAnalyzer.Compute(op.Risk, inputs, directions, options);
            var norms = tensor(result.GradientNorms).unsqueeze(1);
            var cosine = (result.Alignment - reference).abs().max().item<double>();
            var scaled = ((result.Alignment - reference).abs() * norms).max().item<double>() / result.GradientNorms.Max();
            if (!(scaled < 1e-10))
                throw new InvalidOperationException($"{method} differs from the per-sample loop by {scaled:E2} of max‖g‖‖v‖ in a product ⟨g, v⟩; refusing to time it.");
            CaseMetrics.Record(this, method, "Max abs. diff", string.Create(CultureInfo.InvariantCulture, $"{scaled:0.0e0} (cos {cosine:0.0e0})"));
        }
    }

    private static AlignmentOptions DoubleVjp => new() { UseFastDirectionalDerivatives = false };

    /// <summary>The reference: explicit per-sample gradients G [n, p], then cosines with the columns of V.</summary>
    private Tensor PerSampleAlignment()
    {
        using var scope = NewDisposeScope();
        var g = ReinforcingGradients.PerSample(op.Risk, inputs).to(ScalarType.Float64);
        var rowNorms = g.norm(1, keepdim: true);
        var columnNorms = directions.norm(0, keepdim: true);
        var defined = rowNorms > 1e-20;
        var cosines = g.mm(directions) / where(defined, rowNorms * columnNorms, ones_like(rowNorms));
        return where(defined, cosines, zeros_like(cosines)).MoveToOuterDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        op.Dispose();
        inputs.Dispose();
        directions.Dispose();
    }

    [Benchmark(Baseline = true, Description = "per-sample loop")]
    public void PerSampleLoop()
    {
        using var scope = NewDisposeScope();
        PerSampleAlignment();
    }

    [Benchmark(Description = "batched, Linear closed form")]
    public void Batched()
    {
        using var result = AlignmentAnalyzer.Compute(op.Risk, inputs, directions);
    }

    [Benchmark(Description = "batched, double-vjp products")]
    public void BatchedDoubleVjp()
    {
        using var result = AlignmentAnalyzer.Compute(op.Risk, inputs, directions, DoubleVjp);
    }
}
