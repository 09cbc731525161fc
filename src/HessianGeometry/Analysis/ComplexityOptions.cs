namespace HessianGeometry.Analysis;

/// <summary>How the threshold ε of the boundary complexity G = #{i : m_i &gt; ε} / p is chosen.</summary>
public sealed record ComplexityOptions
{
    /// <summary>An explicit ε in (0, 1), or null (default) for the random-direction baseline.</summary>
    public double? Epsilon { get; init; }

    /// <summary>Random Gaussian directions of the ε baseline (default <see cref="AnalysisDefaults.EpsilonDirections"/>; unused with an explicit ε).</summary>
    public int RandomDirections { get; init; } = AnalysisDefaults.EpsilonDirections;

    /// <summary>
    /// How degenerate eigenvalue clusters are found and how many random bases of them are drawn (the seed is the
    /// analysis seed; a null machine epsilon follows the analysis precision).
    /// </summary>
    public Geometry.DegeneracyOptions Degeneracy { get; init; } = new();
}
