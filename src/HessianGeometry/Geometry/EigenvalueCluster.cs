namespace HessianGeometry.Geometry;

/// <summary>
/// A set of eigenvalues that are not numerically distinct: each is within the clustering tolerance of a neighbour
/// (see <see cref="EigenvalueClustering"/>), so any orthonormal basis of their joint eigenspace is an equally valid set
/// of eigenvectors.
/// </summary>
/// <param name="Indices">Positions of the members in the eigenvalue list given to the clustering (the alignment's columns), ascending.</param>
/// <param name="LargestEigenvalue">The largest member eigenvalue.</param>
/// <param name="SmallestEigenvalue">The smallest member eigenvalue.</param>
/// <param name="StraddlesCutoff">
/// True when only some eigenpairs were computed and this cluster holds the last computed one (the end of the computed
/// range nearest the rest of the spectrum): eigenvalues not computed may belong to it, so its eigenspace may be larger.
/// </param>
public sealed record EigenvalueCluster(int[] Indices, double LargestEigenvalue, double SmallestEigenvalue, bool StraddlesCutoff)
{
    /// <summary>The number of members.</summary>
    public int Size => Indices.Length;
}
