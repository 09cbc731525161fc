namespace HessianGeometry.Analysis;

/// <summary>Principal angles between the top-k eigenspaces of H and the GGN (cosines = singular values of V_Hᵀ V_GGN).</summary>
public sealed record SubspaceOverlapSection
{
    /// <summary>cos θ_i, descending; 1 = a shared direction, 0 = orthogonal.</summary>
    public double[] Cosines { get; init; } = [];

    /// <summary>θ_i in degrees, ascending.</summary>
    public double[] AnglesDegrees { get; init; } = [];

    /// <summary>(1/k) Σ cos² θ_i = ‖V_Hᵀ V_GGN‖²_F / k: 1 when the subspaces coincide, about k/p for random subspaces.</summary>
    public double MeanSquaredCosine { get; init; }
}
