using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Alignment of Hessian eigenvectors with the reinforcing gradients of a set of inputs (Sabanayagam, Behrens,
/// Adomaityte, Dawid 2025, "Unveiling the Hessian's Connection to the Decision Boundary"):
/// A_i(x) = ⟨g(x), v_i⟩ / (‖g(x)‖ ‖v_i‖), with g(x) = ∂ℓ(θ; x, ŷ)/∂θ and ŷ = argmax f_θ(x).
/// </summary>
/// <param name="Alignment">A, float64 [n, k]: signed cosines, rows in input order, columns in eigenvector order; 0 where ‖g(x)‖ ≤ 1e-140 (1e-15 in float32), where the norm underflows.</param>
/// <param name="MeanAbsAlignment">m_i = (1/n) Σ_x |A_i(x)|, one per eigenvector (the paper's statistic).</param>
/// <param name="MaxAbsAlignment">max_x |A_i(x)|, one per eigenvector (the max variant).</param>
/// <param name="GradientNorms">‖g(x_j)‖, one per input.</param>
/// <param name="PredictedClasses">ŷ_j = argmax f_θ(x_j), one per input.</param>
/// <param name="LogitGaps">Top-1 minus top-2 model output per input (≈ 0 on the decision boundary).</param>
public sealed record AlignmentResult(
    Tensor Alignment,
    double[] MeanAbsAlignment,
    double[] MaxAbsAlignment,
    double[] GradientNorms,
    long[] PredictedClasses,
    double[] LogitGaps) : IDisposable
{
    /// <summary>n, the number of inputs.</summary>
    public int InputCount => GradientNorms.Length;

    /// <summary>k, the number of eigenvectors (columns of <see cref="Alignment"/>).</summary>
    public int EigenvectorCount => MeanAbsAlignment.Length;

    /// <summary>Frees <see cref="Alignment"/>.</summary>
    public void Dispose() => Alignment.Dispose();
}
