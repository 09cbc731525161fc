namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Which dense route the exact solver decomposes the materialised matrix with (docs/solvers.md, "Range-revealing
/// decomposition"). Every route returns all p eigenpairs; they differ in cost and in what the residuals of the
/// null-space pairs are.
/// </summary>
public enum EigendecompositionMethod
{
    /// <summary>
    /// The range-revealing route when p ≥ <see cref="RangeRevealingEigh.MinimumDimension"/>, falling back to
    /// <see cref="Full"/> when the numerical rank exceeds <see cref="RangeRevealingEigh.MaxRankFraction"/>·p or the
    /// certificate fails; <see cref="Full"/> below that size. The default.
    /// </summary>
    Auto,

    /// <summary><c>torch.linalg.eigh</c> on the whole matrix (LAPACK syevd), every residual computed.</summary>
    Full,

    /// <summary>
    /// The range-revealing route at any size; an <see cref="InvalidOperationException"/> when the rank limit is
    /// exceeded or the certificate fails (use <see cref="Auto"/> to fall back instead).
    /// </summary>
    Range,
}
