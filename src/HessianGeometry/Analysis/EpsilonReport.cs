using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>The alignment threshold ε.</summary>
/// <param name="Mean">ε for the mean variant of m_i.</param>
/// <param name="Max">ε for the max variant of m_i.</param>
/// <param name="Method">"random-baseline" (mean over random Gaussian directions) or "explicit".</param>
/// <param name="Directions">Number of random directions (0 when explicit).</param>
/// <param name="Seed">Seed of the random directions.</param>
public sealed record EpsilonReport(double Mean, double Max, string Method, int Directions, long Seed)
{
    /// <summary>The report of a threshold.</summary>
    public static EpsilonReport From(EpsilonBaseline epsilon)
    {
        ArgumentNullException.ThrowIfNull(epsilon);
        return new(epsilon.MeanVariant, epsilon.MaxVariant, epsilon.Explicit ? "explicit" : "random-baseline", epsilon.Directions, epsilon.Seed);
    }
}
