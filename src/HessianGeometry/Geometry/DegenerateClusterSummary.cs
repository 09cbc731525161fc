namespace HessianGeometry.Geometry;

/// <summary>
/// Basis-independent facts about one degenerate eigenvalue cluster (or, with <paramref name="ClusterCount"/> &gt; 1, about
/// several small clusters summed), and how its part of the encoding count moves when its basis is rotated.
/// </summary>
/// <param name="ClusterCount">1 for a single cluster; the number of clusters summed in an aggregate entry.</param>
/// <param name="Size">The number of eigenvalues (summed over an aggregate).</param>
/// <param name="LargestEigenvalue">The largest member eigenvalue.</param>
/// <param name="SmallestEigenvalue">The smallest member eigenvalue.</param>
/// <param name="FirstIndex">The smallest member position among the alignment's columns (-1 for an aggregate).</param>
/// <param name="StraddlesCutoff">True when the cluster may continue among eigenpairs that were not computed.</param>
/// <param name="GradientEnergyShare">Σ_j ‖P_C g_j‖² / Σ_j ‖g_j‖²: the share of the inputs' pooled gradient energy in the cluster's eigenspace (dominated by the inputs with the largest gradients).</param>
/// <param name="MeanCosineShare">(1/n') Σ_j ‖P_C g_j‖² / ‖g_j‖² over the n' inputs with a defined alignment: every input weighted equally, as in the count's m_i.</param>
/// <param name="CountMean">Members counted by the mean statistic in the given basis.</param>
/// <param name="CountMax">Members counted by the max statistic in the given basis.</param>
/// <param name="BasisCountMean">The mean-statistic count of its members over the random bases.</param>
/// <param name="BasisCountMax">The max-statistic count of its members over the random bases.</param>
public sealed record DegenerateClusterSummary(
    int ClusterCount,
    int Size,
    double LargestEigenvalue,
    double SmallestEigenvalue,
    int FirstIndex,
    bool StraddlesCutoff,
    double GradientEnergyShare,
    double MeanCosineShare,
    int CountMean,
    int CountMax,
    CountDistribution BasisCountMean,
    CountDistribution BasisCountMax);
