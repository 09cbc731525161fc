using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>Conveniences on any <see cref="ILinearOperator"/>.</summary>
public static class LinearOperatorExtensions
{
    /// <summary>The dense p×p matrix of the operator (see <see cref="ExactHessian.Compute"/>).</summary>
    public static Tensor ToDense(this ILinearOperator op, ScalarType dtype = ScalarType.Float64, long memoryBudgetBytes = ExactHessian.DefaultMemoryBudgetBytes) =>
        ExactHessian.Compute(op, dtype, memoryBudgetBytes);

    /// <summary>The lazy operator A − σI.</summary>
    public static ShiftedOperator Shift(this ILinearOperator op, double sigma) => new(op, sigma);

    /// <summary>The lazy operator −A.</summary>
    public static ShiftedOperator Negate(this ILinearOperator op) => new(op, 0.0, -1.0);
}
