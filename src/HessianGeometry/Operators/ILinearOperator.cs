using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// A matrix-free linear operator A ∈ ℝ^{p×p}: the one seam every eigen-solver and spectrum estimator depends on.
/// Algorithms see only <see cref="Apply"/> and <see cref="ApplyBlock"/>, never a model, so they can be tested on
/// matrices of known spectrum.
/// </summary>
public interface ILinearOperator
{
    /// <summary>The dimension p (number of rows and columns).</summary>
    long Dimension { get; }

    /// <summary>The dtype vectors must have when passed to <see cref="Apply"/>.</summary>
    ScalarType DType { get; }

    /// <summary>The device vectors must live on.</summary>
    Device Device { get; }

    /// <summary>True when A = Aᵀ (Hessians, dense symmetric matrices, diagonal and shifted symmetric operators).</summary>
    bool IsSymmetric { get; }

    /// <summary>Number of vectors multiplied so far (a block of k columns counts k): the HVP count for Hessians.</summary>
    long ApplicationCount { get; }

    /// <summary>Returns A·v for a vector of shape [p].</summary>
    Tensor Apply(Tensor vector);

    /// <summary>Returns A·V for a block of shape [p, k].</summary>
    Tensor ApplyBlock(Tensor block);
}
