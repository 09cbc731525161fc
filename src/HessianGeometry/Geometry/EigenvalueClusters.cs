namespace HessianGeometry.Geometry;

/// <summary>The split of a spectrum into numerically distinct eigenvalues and degenerate clusters.</summary>
/// <param name="Clusters">Clusters of two or more eigenvalues, largest eigenvalue first.</param>
/// <param name="IsolatedIndices">Positions of the numerically distinct eigenvalues, ascending.</param>
/// <param name="BaseTolerance">c · u · p · ‖H‖, the part of the linking tolerance that does not depend on residuals.</param>
/// <param name="LargestResidual">max_i ‖r_i‖ over the given pairs (0 when no residuals were given).</param>
/// <param name="SpectralNorm">‖H‖ as used: the largest |λ| given.</param>
public sealed record EigenvalueClusters(EigenvalueCluster[] Clusters, int[] IsolatedIndices, double BaseTolerance, double LargestResidual, double SpectralNorm)
{
    /// <summary>The number of eigenvalues in clusters.</summary>
    public int ClusteredCount => Clusters.Sum(c => c.Size);
}
