using HessianGeometry.Geometry;
using Xunit;

namespace HessianGeometry.Tests.Geometry;

/// <summary>Spearman's ρ against an independent O(n²) rank computation, SciPy values and edge cases; the distribution summary against NumPy.</summary>
public sealed class SpearmanCorrelationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MatchesPearsonOfRanksComputedByCounting_WithTies(int seed)
    {
        var random = new Random(seed);
        // Rounded values give many ties.
        var x = Enumerable.Range(0, 60).Select(_ => Math.Round(random.NextDouble() * 10)).ToArray();
        var y = x.Select(v => Math.Round(v + random.NextDouble() * 6 - 3)).ToArray();

        var rho = SpearmanCorrelation.Compute(x, y);

        Assert.NotNull(rho);
        Assert.Equal(Pearson(CountingRanks(x), CountingRanks(y)), rho!.Value, 1e-12);
    }

    [Fact]
    public void MatchesScipy_AndIsMinusOneForAReversedOrder()
    {
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).correlation
        Assert.Equal(0.8207826816681233, SpearmanCorrelation.Compute([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])!.Value, 1e-14);
        Assert.Equal(-1, SpearmanCorrelation.Compute([0.1, 0.5, 0.9, 3], [8, 4, 2, 1])!.Value, 1e-14);
    }

    [Fact]
    public void NonFinitePairsAreLeftOut_ConstantsGiveNull_AndLengthsMustMatch()
    {
        Assert.Equal(1, SpearmanCorrelation.Compute([1, double.NaN, 2, 3], [1, 100, 2, 3])!.Value, 1e-14);
        Assert.Null(SpearmanCorrelation.Compute([1, 1, 1], [1, 2, 3]));
        Assert.Null(SpearmanCorrelation.Compute([1, double.NaN], [1, 2]));
        Assert.Throws<ArgumentException>(() => SpearmanCorrelation.Compute([1, 2], [1, 2, 3]));
    }

    [Fact]
    public void DistributionSummary_MatchesNumpyQuantiles_AndSkipsNaN()
    {
        // numpy.quantile([3, 1, 4, 1.5, 9, 2.6], [0.25, 0.5, 0.75]) = [1.775, 2.8, 3.75]
        var summary = DistributionSummary.Of([3.0, 1.0, double.NaN, 4.0, 1.5, 9.0, 2.6])!;
        Assert.Equal(6, summary.Count);
        Assert.Equal(1.0, summary.Min);
        Assert.Equal(1.775, summary.FirstQuartile, 1e-14);
        Assert.Equal(2.8, summary.Median, 1e-14);
        Assert.Equal(3.75, summary.ThirdQuartile, 1e-14);
        Assert.Equal(9.0, summary.Max);
        Assert.Equal(21.1 / 6, summary.Mean, 1e-14);
        Assert.Null(DistributionSummary.Of([double.NaN]));
    }

    private static double[] CountingRanks(double[] v) =>
        v.Select(a => v.Count(b => b < a) + (v.Count(b => b == a) + 1) / 2.0).ToArray();

    private static double Pearson(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        var cov = a.Zip(b, (p, q) => (p - ma) * (q - mb)).Sum();
        return cov / Math.Sqrt(a.Sum(p => (p - ma) * (p - ma)) * b.Sum(q => (q - mb) * (q - mb)));
    }
}
