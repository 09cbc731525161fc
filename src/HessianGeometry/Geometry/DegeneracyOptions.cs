namespace HessianGeometry.Geometry;

/// <summary>
/// How <see cref="ComplexityDegeneracyAnalysis"/> decides which eigenvalues are numerically distinct and how it samples
/// other bases of the degenerate clusters.
/// </summary>
public sealed record DegeneracyOptions
{
    /// <summary>
    /// c in the clustering tolerance: neighbouring eigenvalues λ_i, λ_j (in sorted order) are linked when
    /// |λ_i − λ_j| ≤ c · (u · p · ‖H‖ + max(‖r_i‖, ‖r_j‖)), with u the machine epsilon, ‖H‖ = max |λ| and r the residual
    /// vectors. Default 1: u · p · ‖H‖ already bounds the backward error of a dense symmetric eigensolver generously.
    /// </summary>
    public double ToleranceFactor { get; init; } = 1;

    /// <summary>
    /// u in the clustering tolerance; null (default) uses float64's 2⁻⁵² (the analysis façade passes float32's 2⁻²³ for a
    /// float32 analysis, whose Hessian is only accurate to that).
    /// </summary>
    public double? MachineEpsilon { get; init; }

    /// <summary>R, the number of seeded random orthonormal bases drawn for every degenerate cluster (default 5).</summary>
    public int BasisDraws { get; init; } = 5;

    /// <summary>Seeds the random bases: the same seed gives the same draws bit for bit.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Clusters listed one by one, largest first (default 20); the rest are summed into one aggregate entry, so a
    /// spectrum with thousands of small clusters still gives a short report.
    /// </summary>
    public int MaxClustersListed { get; init; } = 20;
}
