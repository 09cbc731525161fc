using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Testing;

/// <summary>Central finite differences of the gradient: an HVP reference that uses no second-order autograd.</summary>
public static class FiniteDifferences
{
    /// <summary>(∇L(θ + εv) − ∇L(θ − εv)) / 2ε, restoring θ afterwards.</summary>
    public static Tensor HessianVectorProduct(IHessianOperator op, Tensor v, double epsilon = 1e-5)
    {
        using var scope = NewDisposeScope();
        var space = op.Parameters;
        var theta = space.GetValues();
        try
        {
            space.SetValues(theta + epsilon * v);
            var plus = op.Gradient();
            space.SetValues(theta - epsilon * v);
            var minus = op.Gradient();
            return ((plus - minus) / (2 * epsilon)).MoveToOuterDisposeScope();
        }
        finally
        {
            space.SetValues(theta);
        }
    }
}
