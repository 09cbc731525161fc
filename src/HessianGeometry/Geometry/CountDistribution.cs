namespace HessianGeometry.Geometry;

/// <summary>An encoding count over R random bases of the degenerate clusters.</summary>
/// <param name="Mean">The mean count over the draws.</param>
/// <param name="Min">The smallest count.</param>
/// <param name="Max">The largest count.</param>
/// <param name="Counts">The count of every draw, in draw order.</param>
public sealed record CountDistribution(double Mean, int Min, int Max, int[] Counts)
{
    /// <summary>The distribution of the given counts.</summary>
    public static CountDistribution Of(int[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return counts.Length == 0 ? new CountDistribution(0, 0, 0, []) : new CountDistribution(counts.Average(), counts.Min(), counts.Max(), counts);
    }
}
