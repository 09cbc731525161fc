using HessianGeometry.EigenSolvers;
using HessianGeometry.Internal;

namespace HessianGeometry.Geometry;

/// <summary>
/// Splits computed eigenvalues into numerically distinct ones and degenerate clusters.
/// </summary>
/// <remarks>
/// <para>
/// A computed pair (λ̂, v̂) with residual r = H v̂ − λ̂ v̂ is an exact eigenpair of H + E with ‖E‖ = ‖r‖, and the matrix
/// itself carries rounding errors of order u · p · ‖H‖ (the backward error of a dense symmetric eigensolver, and of
/// assembling H from products in precision u). By the Davis–Kahan sin θ theorem, a perturbation of size δ turns an
/// eigenvector by an angle of at most δ / gap, where gap is the distance of its eigenvalue to the rest of the spectrum.
/// When gap ≤ δ the bound says nothing: the individual eigenvectors are not determined by the matrix, only the
/// eigenspace of the whole group is.
/// </para>
/// <para>
/// So neighbouring eigenvalues in sorted order are linked when |λ_i − λ_j| ≤ c · (u · p · ‖H‖ + max(‖r_i‖, ‖r_j‖)), and
/// a cluster is a maximal chain of links (single linkage). Every cluster's invariant subspace is separated from the
/// rest by more than the tolerance, so it is well defined even where its basis is not. Chaining is conservative: the
/// two ends of a long chain may be far apart, but their eigenvectors can still be mixed through the members between.
/// </para>
/// </remarks>
public static class EigenvalueClustering
{
    /// <summary>float64's machine epsilon 2⁻⁵².</summary>
    public const double Float64Epsilon = 2.220446049250313e-16;

    /// <summary>float32's machine epsilon 2⁻²³.</summary>
    public const double Float32Epsilon = 1.1920928955078125e-7;

    /// <summary>Clusters the eigenvalues.</summary>
    /// <param name="eigenvalues">The computed eigenvalues in any order (positions are kept in the result).</param>
    /// <param name="residualNorms">‖H v_i − λ_i v_i‖ per pair, or null when the pairs are exact to rounding.</param>
    /// <param name="dimension">p, the dimension of H (enters the rounding term u · p · ‖H‖).</param>
    /// <param name="computedEnd">
    /// Null when these are all p eigenvalues. Otherwise the end of the spectrum they were computed at: the group at the
    /// other end of the computed range (the smallest computed eigenvalue for <see cref="SpectrumEnd.LargestAlgebraic"/>,
    /// the largest for <see cref="SpectrumEnd.SmallestAlgebraic"/>, both for <see cref="SpectrumEnd.LargestMagnitude"/>)
    /// may continue among the eigenvalues that were not computed, and is flagged <see cref="EigenvalueCluster.StraddlesCutoff"/>.
    /// </param>
    /// <param name="options">The tolerance factor and machine epsilon.</param>
    public static EigenvalueClusters Find(IReadOnlyList<double> eigenvalues, IReadOnlyList<double>? residualNorms, long dimension, SpectrumEnd? computedEnd, DegeneracyOptions? options = null)
    {
        Guard.NotNull(eigenvalues, nameof(eigenvalues));
        options = Check(options);
        Guard.Positive(dimension, nameof(dimension), "Pass the operator's Dimension.");
        var k = eigenvalues.Count;
        if (k > dimension)
            throw new ArgumentException($"{k} eigenvalues were given but p = {dimension}; pass the operator's Dimension.", nameof(dimension));
        if (residualNorms is not null && residualNorms.Count != k)
            throw new ArgumentException($"{residualNorms.Count} residual norms were given for {k} eigenvalues; pass one per eigenvalue, or null.", nameof(residualNorms));
        for (var i = 0; i < k; i++)
        {
            Guard.Finite(eigenvalues[i], $"{nameof(eigenvalues)}[{i}]", "Pass finite eigenvalues.");
            if (residualNorms is not null && !(residualNorms[i] >= 0 && double.IsFinite(residualNorms[i])))
                throw new ArgumentException($"residualNorms[{i}] = {residualNorms[i]} is not a finite non-negative norm.", nameof(residualNorms));
        }

        var norm = k == 0 ? 0 : eigenvalues.Max(Math.Abs);
        var u = options.MachineEpsilon ?? Float64Epsilon;
        var baseTolerance = options.ToleranceFactor * u * dimension * norm;
        double Residual(int i) => residualNorms?[i] ?? 0;
        var order = Enumerable.Range(0, k).OrderByDescending(i => eigenvalues[i]).ThenBy(i => i).ToArray();

        var groups = new List<List<int>>();
        for (var s = 0; s < k; s++)
        {
            var i = order[s];
            if (s > 0)
            {
                var j = order[s - 1];
                var tolerance = baseTolerance + options.ToleranceFactor * Math.Max(Residual(i), Residual(j));
                if (eigenvalues[j] - eigenvalues[i] <= tolerance)
                {
                    groups[^1].Add(i);
                    continue;
                }
            }
            groups.Add([i]);
        }

        var clusters = new List<EigenvalueCluster>();
        var isolated = new List<int>();
        for (var g = 0; g < groups.Count; g++)
        {
            var members = groups[g];
            var straddles = computedEnd is { } end && IsCutoffGroup(g, groups.Count, end);
            if (members.Count >= 2)
            {
                var sorted = members.OrderBy(i => i).ToArray();
                clusters.Add(new EigenvalueCluster(sorted, eigenvalues[members[0]], eigenvalues[members[^1]], straddles));
            }
            else
            {
                isolated.Add(members[0]);
            }
        }
        isolated.Sort();
        var largestResidual = residualNorms is null || k == 0 ? 0 : residualNorms.Max();
        return new EigenvalueClusters([.. clusters], [.. isolated], baseTolerance, largestResidual, norm);
    }

    internal static DegeneracyOptions Check(DegeneracyOptions? options)
    {
        options ??= new DegeneracyOptions();
        Guard.Positive(options.ToleranceFactor, "DegeneracyOptions.ToleranceFactor", "Pass a positive factor such as 1.");
        if (options.MachineEpsilon is { } u && !(u > 0 && u < 1))
            throw new ArgumentOutOfRangeException(nameof(options), u, $"DegeneracyOptions.MachineEpsilon must lie in (0, 1) but was {u}; pass e.g. {Float64Epsilon} (float64) or {Float32Epsilon} (float32), or null.");
        Guard.Positive(options.BasisDraws, "DegeneracyOptions.BasisDraws", "Pass at least 1 random basis per cluster, e.g. 5.");
        Guard.Positive(options.MaxClustersListed, "DegeneracyOptions.MaxClustersListed", "Pass at least 1, e.g. 20.");
        return options;
    }

    // Groups run from the largest computed eigenvalue (group 0) to the smallest (the last group).
    private static bool IsCutoffGroup(int group, int groupCount, SpectrumEnd end) => end switch
    {
        SpectrumEnd.LargestAlgebraic => group == groupCount - 1,
        SpectrumEnd.SmallestAlgebraic => group == 0,
        _ => group == 0 || group == groupCount - 1,
    };
}
