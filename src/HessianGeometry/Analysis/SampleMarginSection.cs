using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>
/// Per-sample margins beyond the report's top-level <c>sampleMargins</c>, <c>sampleMarginClasses</c> and
/// <c>marginAlignmentCorrelation</c>: their distribution, the failures (never dropped silently), the per-input alignment
/// they were correlated with, and the boundary's curvature (or linear pieces) at every input's boundary point.
/// Written as the report's <c>sampleMarginDetails</c>.
/// </summary>
public sealed record SampleMarginSection
{
    /// <summary>Min, quartiles, median, max and mean of the valid margins.</summary>
    public DistributionSummary? Distribution { get; init; }

    /// <summary>Inputs whose search failed.</summary>
    public int Failures { get; init; }

    /// <summary>Their indices (input order).</summary>
    public int[] FailedInputs { get; init; } = [];

    /// <summary>Why each failed (a <see cref="SampleMarginStatus"/> name), parallel to <see cref="FailedInputs"/>.</summary>
    public string[] FailureReasons { get; init; } = [];

    /// <summary>Largest |z_a − z_b| left at a boundary point (the bisection's residual, logit units).</summary>
    public double MaxLogitGap { get; init; }

    /// <summary>Largest number of DeepFool steps an input needed.</summary>
    public int MaxIterations { get; init; }

    /// <summary>max_i |A_i(x)| per input over the top eigenvectors: the quantity correlated with the margins.</summary>
    public double[] MaxAbsAlignment { get; init; } = [];

    /// <summary>
    /// Spearman's ρ between the margins and |A_i(x)| for each top eigenvector i separately (the report's
    /// <c>marginAlignmentCorrelation</c> uses the maximum over i).
    /// </summary>
    public double?[] CorrelationPerEigenvector { get; init; } = [];

    /// <summary>Boundary points per input, flattened (only for inputs of at most 16 dimensions, for plots); null otherwise.</summary>
    public double[][]? BoundaryPoints { get; init; }

    /// <summary>"dense" when per-sample curvatures were computed; "none" with the reason in <see cref="CurvatureNote"/>.</summary>
    public string CurvatureMethod { get; init; } = "none";

    /// <summary>Why per-sample curvatures are missing, or that the network is piecewise linear.</summary>
    public string? CurvatureNote { get; init; }

    /// <summary>Mean curvature at each input's boundary point (null where the search failed or the network is piecewise linear there).</summary>
    public double?[]? MeanCurvatures { get; init; }

    /// <summary>Largest |κ_i| at each input's boundary point (null as for <see cref="MeanCurvatures"/>).</summary>
    public double?[]? MaxAbsCurvatures { get; init; }

    /// <summary>Distribution of <see cref="MeanCurvatures"/>.</summary>
    public DistributionSummary? MeanCurvatureDistribution { get; init; }

    /// <summary>Piecewise-linear networks: linear pieces crossed from each input to its boundary point (null where not counted).</summary>
    public int?[]? PiecesCrossed { get; init; }

    /// <summary>Distribution of <see cref="PiecesCrossed"/>.</summary>
    public DistributionSummary? PiecesDistribution { get; init; }

    /// <summary>Sample intervals per segment behind <see cref="PiecesCrossed"/>.</summary>
    public int PieceSamples { get; init; }
}
