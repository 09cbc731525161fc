namespace HessianGeometry.Geometry;

/// <summary>
/// The boundary complexity's count split into the part that the Hessian determines (eigenvectors of numerically
/// distinct eigenvalues) and the part that depends on the arbitrary choice of basis inside degenerate clusters.
/// </summary>
/// <param name="WellDefinedCountMean">Mean-statistic count among eigenvectors of isolated eigenvalues: the same in every valid eigenbasis.</param>
/// <param name="WellDefinedCountMax">Max-statistic count among eigenvectors of isolated eigenvalues.</param>
/// <param name="IsolatedEigenvalues">The number of numerically distinct eigenvalues.</param>
/// <param name="ClusteredEigenvalues">The number of eigenvalues in degenerate clusters.</param>
/// <param name="ClusterCount">The number of degenerate clusters.</param>
/// <param name="DegenerateCountMean">Mean-statistic count among cluster members in the given basis.</param>
/// <param name="DegenerateCountMax">Max-statistic count among cluster members in the given basis.</param>
/// <param name="BasisCountMean">The total mean-statistic count (well-defined part plus all clusters) over R random bases of every cluster.</param>
/// <param name="BasisCountMax">The total max-statistic count over the same R bases.</param>
/// <param name="BasisDependent">
/// True when the degenerate part can change the count: a cluster member is counted in the given basis, or the count
/// differs between random bases or from the given basis. False means every basis drawn gives the given count and no
/// member of a cluster counts.
/// </param>
/// <param name="Clusters">The largest clusters one by one (at most <see cref="DegeneracyOptions.MaxClustersListed"/>), largest first.</param>
/// <param name="OtherClusters">The remaining clusters summed into one entry, or null when all are listed.</param>
/// <param name="BaseTolerance">c · u · p · ‖H‖, the residual-free part of the clustering tolerance.</param>
/// <param name="LargestResidual">The largest residual norm of the pairs; each link adds c · max(‖r_i‖, ‖r_j‖).</param>
/// <param name="BasisDraws">R, the number of random bases.</param>
/// <param name="Seed">The seed of the random bases.</param>
public sealed record ComplexityDegeneracy(
    int WellDefinedCountMean,
    int WellDefinedCountMax,
    int IsolatedEigenvalues,
    int ClusteredEigenvalues,
    int ClusterCount,
    int DegenerateCountMean,
    int DegenerateCountMax,
    CountDistribution BasisCountMean,
    CountDistribution BasisCountMax,
    bool BasisDependent,
    DegenerateClusterSummary[] Clusters,
    DegenerateClusterSummary? OtherClusters,
    double BaseTolerance,
    double LargestResidual,
    int BasisDraws,
    long Seed);
