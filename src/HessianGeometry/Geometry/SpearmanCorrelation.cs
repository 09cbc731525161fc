namespace HessianGeometry.Geometry;

/// <summary>
/// Spearman's rank correlation ρ: the Pearson correlation of the ranks, ties given their average rank (as
/// <c>scipy.stats.spearmanr</c>). Pairs with a non-finite entry are left out.
/// </summary>
public static class SpearmanCorrelation
{
    /// <summary>ρ(x, y), or null when fewer than two finite pairs remain or one side is constant.</summary>
    public static double? Compute(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
            throw new ArgumentException($"Spearman's ρ pairs the two samples element by element, but they have {x.Count} and {y.Count} entries. Pass samples of equal length.", nameof(y));
        var keep = Enumerable.Range(0, x.Count).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        if (keep.Length < 2)
            return null;
        var rx = Ranks(keep.Select(i => x[i]).ToArray());
        var ry = Ranks(keep.Select(i => y[i]).ToArray());
        return Pearson(rx, ry);
    }

    /// <summary>Ranks 1..n, ties sharing the mean of the ranks they span.</summary>
    internal static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
                end++;
            var rank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
                ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    private static double? Pearson(double[] a, double[] b)
    {
        var meanA = a.Average();
        var meanB = b.Average();
        double sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sab += (a[i] - meanA) * (b[i] - meanB);
            saa += (a[i] - meanA) * (a[i] - meanA);
            sbb += (b[i] - meanB) * (b[i] - meanB);
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : null;
    }
}
