namespace HessianGeometry.EigenSolvers;

/// <summary>Which end of the spectrum an eigen-solver looks for (scipy's <c>which</c> = 'LA', 'SA', 'LM').</summary>
public enum SpectrumEnd
{
    /// <summary>The k algebraically largest eigenvalues λ_1 ≥ λ_2 ≥ … (returned in descending order).</summary>
    LargestAlgebraic,

    /// <summary>The k algebraically smallest eigenvalues (returned in ascending order).</summary>
    SmallestAlgebraic,

    /// <summary>The k eigenvalues of largest |λ| (returned by |λ| descending).</summary>
    LargestMagnitude,
}
