using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The residual R = H − G of the Hessian over the generalised Gauss–Newton matrix on the same risk:
/// R = (1/n) Σ_i Σ_c (∂ℓ_i/∂f_c) ∇²_θ f_c(x_i), the curvature of the network itself weighted by the output gradients
/// (indefinite; zero where the loss is fitted exactly). Each product costs one Hessian and one GGN product.
/// </summary>
public sealed class ResidualOperator : LinearOperator
{
    /// <summary>Combines a Hessian and a GGN operator over the same <see cref="EmpiricalRisk"/>; neither is disposed by this operator.</summary>
    /// <param name="hessian">H.</param>
    /// <param name="ggn">G.</param>
    public ResidualOperator(CurvatureOperator hessian, CurvatureOperator ggn)
    {
        Guard.NotNull(hessian, nameof(hessian));
        Guard.NotNull(ggn, nameof(ggn));
        if (!ReferenceEquals(hessian.Risk, ggn.Risk))
            throw new ArgumentException("The Hessian and the GGN must share one EmpiricalRisk, or R = H − G mixes two models, data sets or precisions. Create both with CurvatureOperators.Create on the same risk.", nameof(ggn));
        Hessian = hessian;
        Ggn = ggn;
    }

    /// <summary>H.</summary>
    public CurvatureOperator Hessian { get; }

    /// <summary>G.</summary>
    public CurvatureOperator Ggn { get; }

    /// <inheritdoc />
    public override long Dimension => Hessian.Dimension;

    /// <inheritdoc />
    public override ScalarType DType => Hessian.DType;

    /// <inheritdoc />
    public override Device Device => Hessian.Device;

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector) => Hessian.Apply(vector).sub_(Ggn.Apply(vector));

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block) => Hessian.ApplyBlock(block).sub_(Ggn.ApplyBlock(block));
}
