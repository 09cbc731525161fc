namespace HessianGeometry.Geometry;

/// <summary>
/// Order statistics of a sample: minimum, quartiles (linear interpolation between order statistics, the
/// <c>numpy.quantile</c> default), median, maximum and mean. NaN values are left out and counted in <see cref="Count"/>'s complement.
/// </summary>
/// <param name="Count">Finite values summarised.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="FirstQuartile">25 % quantile.</param>
/// <param name="Median">50 % quantile.</param>
/// <param name="ThirdQuartile">75 % quantile.</param>
/// <param name="Max">Largest value.</param>
/// <param name="Mean">Arithmetic mean.</param>
public sealed record DistributionSummary(int Count, double Min, double FirstQuartile, double Median, double ThirdQuartile, double Max, double Mean)
{
    /// <summary>The summary of the finite entries of <paramref name="values"/>, or null when there are none.</summary>
    public static DistributionSummary? Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
            return null;
        return new DistributionSummary(sorted.Length, sorted[0], Quantile(sorted, 0.25), Quantile(sorted, 0.5), Quantile(sorted, 0.75), sorted[^1], sorted.Average());
    }

    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
