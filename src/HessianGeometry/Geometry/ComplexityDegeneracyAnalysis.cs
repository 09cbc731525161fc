using HessianGeometry.EigenSolvers;
using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Splits the boundary complexity's encoding count (Sabanayagam et al. 2025, "Unveiling the Hessian's Connection to the
/// Decision Boundary") into the part the Hessian determines and the part that depends on the choice of eigenvectors
/// inside degenerate eigenvalue clusters, and measures the latter over random bases.
/// </summary>
/// <remarks>
/// The paper's G counts eigenvectors, but inside a cluster of equal (numerically indistinguishable) eigenvalues any
/// orthonormal basis is an equally valid set of eigenvectors, and the count of a cluster's members above ε changes with
/// it. Basis-independent facts about a cluster are its size, its eigenvalue range and the share of the inputs' gradient
/// energy in its eigenspace, ‖P_C g‖² = Σ_{i∈C} ⟨g, v_i⟩², which are reported with the count's spread over R seeded Haar
/// random bases (<see cref="ClusterBasisSampler"/>). Clusters come from <see cref="EigenvalueClustering"/>.
/// </remarks>
public static class ComplexityDegeneracyAnalysis
{
    /// <summary>Splits the count.</summary>
    /// <param name="alignment">The alignment of the eigenvectors (columns in the order of <paramref name="eigenvalues"/>); eigenvectors must be orthonormal.</param>
    /// <param name="eigenvalues">The eigenvalue of every alignment column.</param>
    /// <param name="residualNorms">‖H v_i − λ_i v_i‖ per column, or null.</param>
    /// <param name="parameterCount">p, the operator's dimension.</param>
    /// <param name="computedEnd">Null when all p eigenvectors are aligned; otherwise the end of the spectrum the k computed pairs come from.</param>
    /// <param name="epsilon">The thresholds of the count.</param>
    /// <param name="options">Tolerance, draws, seed, listing.</param>
    /// <param name="cancellationToken">Checked once per cluster.</param>
    public static ComplexityDegeneracy Compute(AlignmentResult alignment, IReadOnlyList<double> eigenvalues, IReadOnlyList<double>? residualNorms,
        long parameterCount, SpectrumEnd? computedEnd, EpsilonBaseline epsilon, DegeneracyOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(alignment, nameof(alignment));
        Guard.NotNull(eigenvalues, nameof(eigenvalues));
        Guard.NotNull(epsilon, nameof(epsilon));
        options = EigenvalueClustering.Check(options);
        var k = alignment.EigenvectorCount;
        if (eigenvalues.Count != k)
            throw new ArgumentException($"The alignment has {k} eigenvector columns but {eigenvalues.Count} eigenvalues were given; pass the eigenvalue of every column, in column order.", nameof(eigenvalues));
        if (computedEnd is null && k != parameterCount)
            throw new ArgumentException($"computedEnd is null (all eigenvectors) but the alignment covers {k} of {parameterCount}. Pass the end of the spectrum the pairs were computed at.", nameof(computedEnd));
        var split = EigenvalueClustering.Find(eigenvalues, residualNorms, parameterCount, computedEnd, options);

        using var scope = NewDisposeScope();
        var a = alignment.Alignment.to(ScalarType.Float64).cpu();
        var norms = tensor(alignment.GradientNorms, dtype: ScalarType.Float64);
        var totalEnergy = norms.square().sum().item<double>();
        var definedRows = a.abs().sum(1).gt(0).to(ScalarType.Float64);
        var definedCount = definedRows.sum().item<double>();

        var wellDefinedMean = split.IsolatedIndices.Count(i => alignment.MeanAbsAlignment[i] > epsilon.MeanVariant);
        var wellDefinedMax = split.IsolatedIndices.Count(i => alignment.MaxAbsAlignment[i] > epsilon.MaxVariant);
        var draws = options.BasisDraws;
        var summaries = new List<DegenerateClusterSummary>();
        foreach (var cluster in split.Clusters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var clusterScope = NewDisposeScope();
            var members = tensor(cluster.Indices.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
            var ac = a.index_select(1, members);
            var squares = ac.square();
            var energy = totalEnergy > 0 ? (squares * norms.square().unsqueeze(1)).sum().item<double>() / totalEnergy : 0;
            var cosineShare = definedCount > 0 ? (squares.sum(1) * definedRows).sum().item<double>() / definedCount : 0;
            var drawMean = new int[draws];
            var drawMax = new int[draws];
            for (var r = 0; r < draws; r++)
            {
                using var drawScope = NewDisposeScope();
                var rotated = ClusterBasisSampler.RotatedAlignment(ac, ClusterBasisSampler.DrawSeed(options.Seed, cluster.Indices[0], r)).abs();
                drawMean[r] = (int)rotated.mean([0L]).gt(epsilon.MeanVariant).sum().item<long>();
                drawMax[r] = (int)rotated.amax([0L]).gt(epsilon.MaxVariant).sum().item<long>();
            }
            summaries.Add(new DegenerateClusterSummary(
                1, cluster.Size, cluster.LargestEigenvalue, cluster.SmallestEigenvalue, cluster.Indices[0], cluster.StraddlesCutoff,
                energy, cosineShare,
                cluster.Indices.Count(i => alignment.MeanAbsAlignment[i] > epsilon.MeanVariant),
                cluster.Indices.Count(i => alignment.MaxAbsAlignment[i] > epsilon.MaxVariant),
                CountDistribution.Of(drawMean), CountDistribution.Of(drawMax)));
        }

        var totalMean = Enumerable.Range(0, draws).Select(r => wellDefinedMean + summaries.Sum(c => c.BasisCountMean.Counts[r])).ToArray();
        var totalMax = Enumerable.Range(0, draws).Select(r => wellDefinedMax + summaries.Sum(c => c.BasisCountMax.Counts[r])).ToArray();
        var degenerateMean = summaries.Sum(c => c.CountMean);
        var degenerateMax = summaries.Sum(c => c.CountMax);
        var basisDependent = degenerateMean + degenerateMax > 0
            || totalMean.Any(c => c != wellDefinedMean + degenerateMean)
            || totalMax.Any(c => c != wellDefinedMax + degenerateMax);

        var ordered = summaries.OrderByDescending(c => c.Size).ThenByDescending(c => c.LargestEigenvalue).ToList();
        var listed = ordered.Take(options.MaxClustersListed).ToArray();
        var rest = ordered.Skip(options.MaxClustersListed).ToList();
        return new ComplexityDegeneracy(
            wellDefinedMean, wellDefinedMax,
            split.IsolatedIndices.Length, split.ClusteredCount, split.Clusters.Length,
            degenerateMean, degenerateMax,
            CountDistribution.Of(totalMean), CountDistribution.Of(totalMax),
            basisDependent, listed, rest.Count == 0 ? null : Aggregate(rest, draws),
            split.BaseTolerance, split.LargestResidual, draws, options.Seed);
    }

    private static DegenerateClusterSummary Aggregate(List<DegenerateClusterSummary> clusters, int draws) => new(
        clusters.Count,
        clusters.Sum(c => c.Size),
        clusters.Max(c => c.LargestEigenvalue),
        clusters.Min(c => c.SmallestEigenvalue),
        -1,
        clusters.Any(c => c.StraddlesCutoff),
        clusters.Sum(c => c.GradientEnergyShare),
        clusters.Sum(c => c.MeanCosineShare),
        clusters.Sum(c => c.CountMean),
        clusters.Sum(c => c.CountMax),
        CountDistribution.Of(Enumerable.Range(0, draws).Select(r => clusters.Sum(c => c.BasisCountMean.Counts[r])).ToArray()),
        CountDistribution.Of(Enumerable.Range(0, draws).Select(r => clusters.Sum(c => c.BasisCountMax.Counts[r])).ToArray()));
}
