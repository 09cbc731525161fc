using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>
/// The boundary complexity G = #{i : m_i &gt; ε} / p with its counts, threshold and encoding eigenvectors. Written as
/// the report's <c>complexity</c> object, whose first four fields are those of schema 1.
/// </summary>
public sealed record ComplexitySection
{
    /// <summary>Eigenvectors with mean |A_i| &gt; ε.</summary>
    public int EncodingCountMean { get; init; }

    /// <summary>Eigenvectors with max |A_i| &gt; ε.</summary>
    public int EncodingCountMax { get; init; }

    /// <summary>k, the eigenvectors the count ran over (p with the exact solver).</summary>
    public int EigenvectorsConsidered { get; init; }

    /// <summary>True when k &lt; p, so G counts only among the computed eigenvectors.</summary>
    public bool IsLowerBound { get; init; }

    /// <summary>G with the mean variant of m_i.</summary>
    public double ComplexityMean { get; init; }

    /// <summary>G with the max variant of m_i.</summary>
    public double ComplexityMax { get; init; }

    /// <summary>Indices (0-based) of eigenvectors whose mean |alignment| beats ε.</summary>
    public int[] EncodingEigenvectors { get; init; } = [];

    /// <summary>The threshold ε and how it was chosen.</summary>
    public EpsilonReport? Epsilon { get; init; }

    /// <summary>
    /// The count split into its well-defined part (eigenvectors of numerically distinct eigenvalues) and the degenerate
    /// clusters, with the count's spread over random bases of them and <c>basisDependent</c>; null in reports without it.
    /// </summary>
    public ComplexityDegeneracy? Degeneracy { get; init; }

    /// <summary>Inputs a float32 / naive float64 pipeline cannot resolve, and G without them; null in reports without it.</summary>
    public SaturationSection? Saturation { get; init; }

    /// <summary>The section for a complexity measurement.</summary>
    public static ComplexitySection From(BoundaryComplexity complexity)
    {
        ArgumentNullException.ThrowIfNull(complexity);
        return new ComplexitySection
        {
            EncodingCountMean = complexity.EncodingCountMean,
            EncodingCountMax = complexity.EncodingCountMax,
            EigenvectorsConsidered = complexity.EigenvectorsConsidered,
            IsLowerBound = complexity.IsLowerBound,
            ComplexityMean = complexity.ComplexityMean,
            ComplexityMax = complexity.ComplexityMax,
            EncodingEigenvectors = complexity.EncodingIndicesMean,
            Epsilon = EpsilonReport.From(complexity.Epsilon),
        };
    }
}
