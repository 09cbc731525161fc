using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// What <see cref="RangeRevealingEigh.TryDecompose"/> found: either a certified decomposition (<see cref="Vectors"/> set)
/// or the reason it stopped (<see cref="FallbackReason"/> set, no tensors).
/// </summary>
/// <param name="Eigenvalues">All p eigenvalues ascending (the p − r null-space ones exactly 0); empty on fallback.</param>
/// <param name="Vectors">Orthonormal eigenvectors as columns [p, p] in the order of <paramref name="Eigenvalues"/>; null on fallback.</param>
/// <param name="ResidualNorms">‖A v − λ v‖₂ computed for the r range pairs; the certified bound ‖E‖_F for the null-space pairs.</param>
/// <param name="ResidualIsBound">True where <paramref name="ResidualNorms"/> holds the bound ‖E‖_F rather than a computed residual.</param>
/// <param name="Rank">r, the dimension of the range found (the number of computed Ritz pairs).</param>
/// <param name="RelativeError">‖A − X Λ Xᵀ‖_F / ‖A‖_F of the range pairs (X, Λ); NaN when not computed.</param>
/// <param name="Tolerance">The acceptance level τ the relative error was held to.</param>
/// <param name="FallbackReason">Why the route gave up; null when it succeeded.</param>
internal sealed record RangeRevealingOutcome(
    double[] Eigenvalues,
    Tensor? Vectors,
    double[] ResidualNorms,
    bool[] ResidualIsBound,
    int Rank,
    double RelativeError,
    double Tolerance,
    string? FallbackReason);
