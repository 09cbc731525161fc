namespace HessianGeometry.Analysis;

/// <summary>
/// H = GGN + R on the same data (<see cref="HessianAnalysisBuilder.WithDecomposition"/>): which part of the Hessian's
/// outlier eigenvalues the GGN (the loss curvature seen through the network's Jacobian) explains and which the
/// residual (the network's own second derivatives weighted by the output gradients).
/// </summary>
public sealed record DecompositionSection
{
    /// <summary>The top-k eigenvalues of H, descending.</summary>
    public double[] HessianEigenvalues { get; init; } = [];

    /// <summary>The top-k eigenvalues of the GGN, descending (all ≥ 0 up to round-off).</summary>
    public double[] GgnEigenvalues { get; init; } = [];

    /// <summary>The k eigenvalues of R = H − GGN of largest magnitude, by |λ| descending (R is indefinite).</summary>
    public double[] ResidualEigenvalues { get; init; } = [];

    /// <summary>True when every eigenpair of the three solves met the tolerance (always true with the exact solver).</summary>
    public bool Converged { get; init; }

    /// <summary>Principal angles between the top-k eigenspaces of H and the GGN.</summary>
    public SubspaceOverlapSection SubspaceOverlap { get; init; } = new();

    /// <summary>tr H = tr GGN + tr R from the same probes (or exact).</summary>
    public TraceSplitSection Traces { get; init; } = new();

    /// <summary>Products with H and with the GGN the stage spent (a residual product counts one of each).</summary>
    public long HessianProducts { get; init; }

    /// <summary>Products with the GGN the stage spent.</summary>
    public long GgnProducts { get; init; }

    /// <summary>The GGN engine that ran and why.</summary>
    public string GgnEngine { get; init; } = string.Empty;

    /// <summary>Caveats on numbers that depend on an arbitrary choice (a near-degenerate cut at k), empty otherwise.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
