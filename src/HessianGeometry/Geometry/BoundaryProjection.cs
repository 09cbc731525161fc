using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Moves an input onto the decision boundary between its two highest-scoring classes a and b, the surface
/// {x : z_a(x) = z_b(x)}, by Newton steps on the logit gap s(x) = z_a(x) − z_b(x): x ← x − s(x) ∇s(x) / ‖∇s(x)‖², the
/// step to the zero of s's linearisation (exact in one step for a piecewise-linear network that stays in one linear
/// region). A point counts as on the boundary when |s| ≤ 1e-9 (float64) or 1e-4 (float32) times 1 + max |z|.
/// </summary>
internal static class BoundaryProjection
{
    private const int MaxSteps = 50;

    /// <summary>The projection of <paramref name="start"/> [1, ...], or the start itself with OnBoundary false.</summary>
    public static BoundaryProjectionResult Project(EmpiricalRisk risk, Tensor start)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var (a, b) = TopTwo(risk, start);
        var tolerance = risk.DType == ScalarType.Float64 ? 1e-9 : 1e-4;
        var x = start.detach().clone();
        var gap = double.NaN;
        for (var step = 0; step <= MaxSteps; step++)
        {
            using var stepScope = NewDisposeScope();
            var point = x.detach().requires_grad_(true);
            var output = risk.Forward(point);
            var s = output[0, a] - output[0, b];
            gap = s.detach().to(ScalarType.Float64).item<double>();
            var scale = 1 + output.detach().abs().max().to(ScalarType.Float64).item<double>();
            if (Math.Abs(gap) <= tolerance * scale)
            {
                var (top1, top2) = TopTwo(risk, x);
                var onBoundary = (top1 == a && top2 == b) || (top1 == b && top2 == a);
                return Result(start, x, onBoundary, gap, a, b);
            }
            // autograd.grad aborts the process on an output without a graph; logits that do not depend on the input give no gradient.
            if (!s.requires_grad)
                break;
            var gradients = torch.autograd.grad([s], [point], allow_unused: true);
            if (gradients[0] is null || gradients[0].IsInvalid)
                break;
            var gradient = gradients[0];
            var squaredNorm = gradient.square().sum().to(ScalarType.Float64).item<double>();
            if (!(squaredNorm > 0) || !double.IsFinite(squaredNorm))
                break;
            using (no_grad())
                x.AddScaledInPlace(gradient, -(gap / squaredNorm));
        }
        return Result(start, start.detach().clone(), false, gap, a, b);
    }

    private static BoundaryProjectionResult Result(Tensor start, Tensor point, bool onBoundary, double gap, long a, long b)
    {
        var distance = (point - start).norm().to(ScalarType.Float64).item<double>();
        var flat = point.detach().reshape(-1).to(ScalarType.Float64).cpu().data<double>().ToArray();
        return new BoundaryProjectionResult(flat, onBoundary, distance, gap, [(int)Math.Min(a, b), (int)Math.Max(a, b)]);
    }

    private static (long First, long Second) TopTwo(EmpiricalRisk risk, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var indices = risk.Forward(x).topk(2, dim: 1).indexes[0].cpu().data<long>().ToArray();
        return (indices[0], indices[1]);
    }
}
