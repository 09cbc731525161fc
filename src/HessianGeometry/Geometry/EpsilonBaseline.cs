namespace HessianGeometry.Geometry;

/// <summary>
/// The threshold ε above which an eigenvector counts as encoding the decision boundary. By default it is the same
/// alignment statistic measured on random directions (Sabanayagam et al. 2025, "Unveiling the Hessian's Connection to
/// the Decision Boundary"): R seeded Gaussian directions r, ε = (1/R) Σ_r stat_x |cos(g(x), r)|, with stat the mean
/// (<see cref="MeanVariant"/>) or the maximum (<see cref="MaxVariant"/>) over the inputs.
/// </summary>
/// <param name="MeanVariant">ε for the mean statistic m_i = (1/n) Σ_x |A_i(x)|.</param>
/// <param name="MaxVariant">ε for the max statistic max_x |A_i(x)|.</param>
/// <param name="Directions">R, the number of random directions (0 for an explicit ε).</param>
/// <param name="Seed">The seed of the random directions (0 for an explicit ε).</param>
/// <param name="Explicit">True when ε was given by the caller rather than measured.</param>
public sealed record EpsilonBaseline(double MeanVariant, double MaxVariant, int Directions, long Seed, bool Explicit)
{
    /// <summary>An explicit ε used for both statistics.</summary>
    /// <param name="epsilon">The threshold, in [0, 1).</param>
    public static EpsilonBaseline FromValue(double epsilon) => FromValues(epsilon, epsilon);

    /// <summary>Explicit thresholds for the mean and the max statistic.</summary>
    /// <param name="meanVariant">ε for the mean statistic, in [0, 1).</param>
    /// <param name="maxVariant">ε for the max statistic, in [0, 1).</param>
    public static EpsilonBaseline FromValues(double meanVariant, double maxVariant)
    {
        Check(meanVariant, nameof(meanVariant));
        Check(maxVariant, nameof(maxVariant));
        return new EpsilonBaseline(meanVariant, maxVariant, 0, 0, true);
    }

    private static void Check(double epsilon, string name)
    {
        if (!(epsilon >= 0 && epsilon < 1))
            throw new ArgumentOutOfRangeException(name, epsilon, $"{name} must lie in [0, 1) because it thresholds |cos| but was {epsilon}. Pass e.g. 0.05, or measure it with BoundaryComplexityMeasure.RandomBaseline.");
    }
}
