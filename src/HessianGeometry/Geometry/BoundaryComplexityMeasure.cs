using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// The decision-boundary complexity of Sabanayagam, Behrens, Adomaityte, Dawid (2025), "Unveiling the Hessian's
/// Connection to the Decision Boundary": G = (1/p) · #{ i : m_i &gt; ε }, with m_i the mean (or max) over the inputs of
/// |A_i(x)| and ε measured on random directions.
/// </summary>
public static class BoundaryComplexityMeasure
{
    /// <summary>
    /// ε from random directions: R seeded Gaussian directions r ∈ ℝ^p, for each the mean and the max over the inputs of
    /// |cos(g(x), r)|, averaged over the R directions. Random directions in ℝ^p have |cos| ≈ √(2/(πp)) with any fixed
    /// vector, so ε is the level an eigenvector must beat to say something about the inputs.
    /// </summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="inputs">The inputs the alignment is measured on (the same as for the eigenvectors).</param>
    /// <param name="directions">R, the number of random directions (default 5, as in the paper).</param>
    /// <param name="seed">Seeds the directions: the same seed gives the same ε bit for bit.</param>
    /// <param name="options">The same alignment options as for the eigenvectors.</param>
    /// <param name="cancellationToken">Checked once per batch.</param>
    public static EpsilonBaseline RandomBaseline(EmpiricalRisk risk, Tensor inputs, int directions = 5, long seed = 0,
        AlignmentOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        return RandomBaselineOn(new LocalSampleGeometry(risk, inputs), risk, directions, seed, options, cancellationToken);
    }

    /// <summary>
    /// <see cref="RandomBaseline(EmpiricalRisk, Tensor, int, long, AlignmentOptions?, CancellationToken)"/> with the
    /// alignment's per-sample rows from <paramref name="geometry"/>: the directions are drawn here (from
    /// <paramref name="risk"/>'s dimension and device), the rows may be computed elsewhere.
    /// </summary>
    internal static EpsilonBaseline RandomBaselineOn(ISampleGeometry geometry, EmpiricalRisk risk, int directions, long seed,
        AlignmentOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.Positive(directions, nameof(directions), "Pass the number of random directions, e.g. 5.");
        using var scope = NewDisposeScope();
        var random = RandomVectors.Gaussian(risk.Dimension, directions, RandomVectors.CreateGenerator(seed), ScalarType.Float64, risk.Device);
        using var alignment = geometry.Alignment(random, options ?? new AlignmentOptions(), explicitGradients: false, cancellationToken);
        return new EpsilonBaseline(alignment.MeanAbsAlignment.Average(), alignment.MaxAbsAlignment.Average(), directions, seed, Explicit: false);
    }

    /// <summary>
    /// Counts the eigenvectors whose alignment statistic exceeds ε and turns the count into G = count / p.
    /// </summary>
    /// <param name="alignment">The alignment of the k eigenvectors (from <see cref="AlignmentAnalyzer.Compute"/>).</param>
    /// <param name="parameterCount">p, the number of parameters (the operator's dimension).</param>
    /// <param name="eigenvectorsAreComplete">
    /// True when the alignment covers all p eigenvectors of the exact Hessian (then G is the paper's value); false when
    /// only k &lt; p were computed (then the count is among those k and G = count / p is a lower bound).
    /// </param>
    /// <param name="epsilon">The thresholds (from <see cref="RandomBaseline"/> or <see cref="EpsilonBaseline.FromValue"/>).</param>
    public static BoundaryComplexity Compute(AlignmentResult alignment, long parameterCount, bool eigenvectorsAreComplete, EpsilonBaseline epsilon)
    {
        Guard.NotNull(alignment, nameof(alignment));
        Guard.NotNull(epsilon, nameof(epsilon));
        Guard.Positive(parameterCount, nameof(parameterCount), "Pass the operator's Dimension.");
        var k = alignment.EigenvectorCount;
        if (k > parameterCount)
            throw new ArgumentException($"The alignment has {k} eigenvectors but p = {parameterCount}; a p-dimensional Hessian has at most p. Pass the operator's Dimension as parameterCount.", nameof(parameterCount));
        if (eigenvectorsAreComplete && k != parameterCount)
        {
            throw new ArgumentException(
                $"eigenvectorsAreComplete is true but the alignment covers {k} of {parameterCount} eigenvectors. Pass false for a partial set (G is then a lower bound), " +
                "or align all eigenvectors of the exact Hessian.", nameof(eigenvectorsAreComplete));
        }
        var mean = Enumerable.Range(0, k).Where(i => alignment.MeanAbsAlignment[i] > epsilon.MeanVariant).ToArray();
        var max = Enumerable.Range(0, k).Where(i => alignment.MaxAbsAlignment[i] > epsilon.MaxVariant).ToArray();
        return new BoundaryComplexity(
            mean.Length,
            max.Length,
            k,
            parameterCount,
            (double)mean.Length / parameterCount,
            (double)max.Length / parameterCount,
            IsLowerBound: !eigenvectorsAreComplete,
            epsilon,
            mean,
            max);
    }
}
