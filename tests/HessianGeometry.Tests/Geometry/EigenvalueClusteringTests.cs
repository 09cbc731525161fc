using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// The split into numerically distinct eigenvalues and degenerate clusters, against matrices built with a known
/// spectrum and against the tolerance formula c · (u · p · ‖H‖ + max residual).
/// </summary>
public sealed class EigenvalueClusteringTests
{
    [Fact]
    public void DenseMatrixWithRepeatedEigenvalues_ClustersExactlyTheRepeats()
    {
        using var scope = NewDisposeScope();
        // Q diag(λ) Qᵀ with λ = 5, 3, 3, 3, 1, 0, 0, 0 and a random orthogonal Q: eigh returns the repeats split by rounding.
        double[] spectrum = [5, 3, 3, 3, 1, 0, 0, 0];
        var (q, _) = linalg.qr(randn(8, 8, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(3)));
        var matrix = q.mm(diag(tensor(spectrum))).mm(q.T);
        using var dense = DenseSpectrum.FromMatrix(matrix);
        var clusters = EigenvalueClustering.Find(dense.Eigenvalues, dense.ResidualNorms, 8, computedEnd: null);

        Assert.Equal(2, clusters.Clusters.Length);
        // eigh returns ascending values: 0, 0, 0, 1, 3, 3, 3, 5; clusters are listed largest eigenvalue first.
        Assert.Equal([4, 5, 6], clusters.Clusters[0].Indices);
        Assert.Equal([0, 1, 2], clusters.Clusters[1].Indices);
        Assert.All(clusters.Clusters[0].Indices, i => Assert.Equal(3, dense.Eigenvalues[i], 1e-12));
        Assert.All(clusters.Clusters[1].Indices, i => Assert.Equal(0, dense.Eigenvalues[i], 1e-12));
        Assert.Equal([3, 7], clusters.IsolatedIndices);
        Assert.All(clusters.Clusters, c => Assert.False(c.StraddlesCutoff));
    }

    [Fact]
    public void DistinctEigenvalues_GiveNoClusters()
    {
        double[] values = [4, 3, 2, 1, 0, -1];
        var clusters = EigenvalueClustering.Find(values, null, 6, computedEnd: null);
        Assert.Empty(clusters.Clusters);
        Assert.Equal([0, 1, 2, 3, 4, 5], clusters.IsolatedIndices);
    }

    [Theory]
    [InlineData(0.9, true)]
    [InlineData(1.1, false)]
    public void Link_FollowsTheToleranceFormula(double gapInTolerances, bool linked)
    {
        const int p = 1000;
        const double norm = 2.0, residual = 1e-10, c = 3;
        var tolerance = c * (EigenvalueClustering.Float64Epsilon * p * norm + residual);
        double[] values = [norm, 1, 1 - gapInTolerances * tolerance];
        double[] residuals = [0, residual, 0];
        var clusters = EigenvalueClustering.Find(values, residuals, p, computedEnd: null, new DegeneracyOptions { ToleranceFactor = c });
        Assert.Equal(linked ? 1 : 0, clusters.Clusters.Length);
        Assert.Equal(c * EigenvalueClustering.Float64Epsilon * p * norm, clusters.BaseTolerance, 1e-25);
    }

    [Fact]
    public void TopK_FlagsTheClusterAtTheCutoffOnly()
    {
        double[] top = [9, 7, 7, 2, 2];
        var clusters = EigenvalueClustering.Find(top, null, 100, SpectrumEnd.LargestAlgebraic);
        Assert.Equal(2, clusters.Clusters.Length);
        Assert.False(clusters.Clusters.Single(c => c.LargestEigenvalue == 7).StraddlesCutoff);
        Assert.True(clusters.Clusters.Single(c => c.LargestEigenvalue == 2).StraddlesCutoff);
    }

    [Fact]
    public void BadInput_IsRejectedWithAClearMessage()
    {
        Assert.Throws<ArgumentException>(() => EigenvalueClustering.Find([1, 2], [0.1], 2, null));
        Assert.Throws<ArgumentException>(() => EigenvalueClustering.Find([1, 2, 3], null, 2, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => EigenvalueClustering.Find([1, 2], null, 2, null, new DegeneracyOptions { ToleranceFactor = 0 }));
    }
}
