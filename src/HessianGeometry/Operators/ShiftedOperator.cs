using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The lazy operator α·A − σ·I. Spectrum transforms use it: the smallest eigenvalues of A are the largest of σI − A,
/// which lets power iteration reach the negative end. Composition is lazy; A is applied once per product.
/// </summary>
public sealed class ShiftedOperator : LinearOperator
{
    /// <summary>Creates α·A − σ·I.</summary>
    /// <param name="inner">The operator A.</param>
    /// <param name="shift">σ, subtracted on the diagonal.</param>
    /// <param name="scale">α, multiplying A (use −1 to negate).</param>
    public ShiftedOperator(ILinearOperator inner, double shift, double scale = 1.0)
    {
        Guard.NotNull(inner, nameof(inner));
        if (!double.IsFinite(shift) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(shift), $"shift and scale must be finite but were σ = {shift}, α = {scale}.");
        Inner = inner;
        Shift = shift;
        Scale = scale;
    }

    /// <summary>The wrapped operator A.</summary>
    public ILinearOperator Inner { get; }

    /// <summary>σ.</summary>
    public double Shift { get; }

    /// <summary>α.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public override long Dimension => Inner.Dimension;

    /// <inheritdoc />
    public override ScalarType DType => Inner.DType;

    /// <inheritdoc />
    public override Device Device => Inner.Device;

    /// <inheritdoc />
    public override bool IsSymmetric => Inner.IsSymmetric;

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector) => Inner.Apply(vector).TimesInPlace(Scale).AddScaledInPlace(vector, -Shift);

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block) => Inner.ApplyBlock(block).TimesInPlace(Scale).AddScaledInPlace(block, -Shift);
}
