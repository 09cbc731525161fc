using HessianGeometry.Internal;
using HessianGeometry.Operators.Engines;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// Decides whether <see cref="ExactHessian.Build"/> can assemble an operator's matrix from the MLP's structure, runs
/// <see cref="StructuralMlpHessian"/>, and accepts the result only when it reproduces one product of the operator.
/// </summary>
internal static class StructuralExactHessian
{
    /// <summary>Seed of the check vector.</summary>
    private const long CheckSeed = 20261217;

    /// <summary>The structural matrix with its note, or null with the reason the block-product build is used instead.</summary>
    public static ExactMatrix? TryBuild(ILinearOperator op, ScalarType dtype, CancellationToken cancellationToken, IProgress<double>? progress, out string reason)
    {
        if (op is not CurvatureOperator curvature)
        {
            reason = $"the structural build covers Hessian and GGN curvature operators, not a {op.GetType().Name}";
            return null;
        }
        bool gaussNewton;
        switch (curvature.CurvatureEngine)
        {
            case AnalyticMlpHessianEngine or DoubleBackwardHessianEngine:
                gaussNewton = false;
                break;
            case AnalyticMlpGgnEngine or GgnEngine:
                gaussNewton = true;
                break;
            default:
                reason = $"the structural build covers the Hessian and the GGN, not the {curvature.CurvatureEngine.Name} curvature";
                return null;
        }
        using var scope = NewDisposeScope();
        var matrix = StructuralMlpHessian.TryCompute(curvature.Risk, gaussNewton, dtype, cancellationToken, progress, out reason);
        if (matrix is null)
            return null;
        var before = op.ApplicationCount;
        var relative = ProductDifference(op, matrix);
        var tolerance = op.DType == ScalarType.Float64 && dtype == ScalarType.Float64 ? 1e-9 : 1e-4;
        if (!(relative <= tolerance))
        {
            reason = $"the structural matrix times a seeded vector differed from the operator's product by {relative:G2} relative (tolerance {tolerance:G1}), so a layer does not compute what its type says";
            return null;
        }
        var note = $"{reason}; its product with a seeded vector matched the operator's to {relative:G2} relative";
        return new ExactMatrix(matrix.MoveToOuterDisposeScope(), ExactHessianBuild.Structural, note, op.ApplicationCount - before);
    }

    /// <summary>‖M v − A v‖ / ‖A v‖ for a seeded Gaussian v, in float64.</summary>
    private static double ProductDifference(ILinearOperator op, Tensor matrix)
    {
        using var scope = NewDisposeScope();
        var v = RandomVectors.Gaussian(op.Dimension, null, RandomVectors.CreateGenerator(CheckSeed), op.DType, op.Device);
        var expected = op.Apply(v).to(ScalarType.Float64);
        var actual = matrix.to(ScalarType.Float64).mv(v.to(ScalarType.Float64));
        var scale = expected.norm().item<double>();
        var difference = (actual - expected).norm().item<double>();
        return difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
    }
}
