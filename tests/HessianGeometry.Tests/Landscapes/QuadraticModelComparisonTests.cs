using HessianGeometry.Landscapes;
using Xunit;

namespace HessianGeometry.Tests.Landscapes;

public sealed class QuadraticModelComparisonTests
{
    [Fact]
    public void QuarticLoss_DepartsWhereTheQuarticTermExceedsTenPercentOfTheRise()
    {
        // L(α) = 1 + α² + 0.3 α⁴ along an eigenvector with λ = 2: the rise is off by 0.3α⁴ / α² = 0.3α², > 10 % once |α| > 0.577.
        var alphas = Enumerable.Range(-10, 21).Select(i => i / 10.0).ToArray();
        var loss = alphas.Select(a => 1 + a * a + 0.3 * Math.Pow(a, 4)).ToArray();
        var q = QuadraticModelComparison.Create("v1", 2.0, alphas, loss, 1.0, 0.1);
        Assert.Equal(0.6, q.DeparturePositive!.Value, 1e-12);
        Assert.Equal(0.6, q.DepartureNegative!.Value, 1e-12);
        Assert.Equal(new[] { 1.0, 0, 1, 0, 0.3 }, q.QuarticCoefficients!.Select(c => Math.Round(c, 10)));
        Assert.Equal(1 + 1 + 0.3, QuadraticModelComparison.EvaluatePolynomial(q.QuarticCoefficients!, 1.0), 1e-10);
        Assert.Equal(0, q.CubicCoefficients![3], 1e-10);
    }

    [Fact]
    public void CubicLoss_DepartsOnBothSides_AndTheCubicFitIsExact()
    {
        // L(α) = α² − 0.3 α³ (λ = 2, L(0) = 0): relative error 0.3|α|, past 10 % once |α| > 1/3: the first grid point beyond is 0.4.
        var alphas = Enumerable.Range(-5, 11).Select(i => i / 5.0).ToArray();
        var loss = alphas.Select(a => a * a - 0.3 * a * a * a).ToArray();
        var q = QuadraticModelComparison.Create("v1", 2.0, alphas, loss, 0.0, 0.1);
        Assert.Equal(0.4, q.DeparturePositive!.Value, 1e-12);
        Assert.Equal(0.4, q.DepartureNegative!.Value, 1e-12);
        Assert.Equal(-0.3, q.CubicCoefficients![3], 1e-10);
        Assert.Equal(1.0, q.CubicCoefficients[2], 1e-10);
    }

    [Fact]
    public void NonFiniteLoss_IsADeparture_AndIsLeftOutOfTheFits()
    {
        double[] alphas = [-2, -1, 0, 1, 2, 3];
        double[] loss = [4, 1, 0, 1, 4, double.PositiveInfinity];
        var q = QuadraticModelComparison.Create("v1", 2.0, alphas, loss, 0.0, 0.1);
        Assert.Equal(3.0, q.DeparturePositive);
        Assert.Null(q.DepartureNegative);
        Assert.Equal(1.0, q.QuarticCoefficients![2], 1e-10);
    }
}
