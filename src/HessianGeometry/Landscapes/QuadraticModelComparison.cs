namespace HessianGeometry.Landscapes;

/// <summary>
/// A 1-D slice along a unit eigenvector v with eigenvalue λ next to its quadratic model q(α) = L(θ*) + ½ λ α² and
/// least-squares cubic and quartic fits of the measured values. The quadratic model is the Hessian's prediction; it
/// omits the gradient term α gᵀv, which the fits' linear coefficient shows (≈ 0 at a minimum).
/// </summary>
/// <param name="Direction">The eigenvector's name.</param>
/// <param name="Eigenvalue">λ.</param>
/// <param name="Coordinates">α at each point of the slice.</param>
/// <param name="Loss">L(θ* + α v), measured.</param>
/// <param name="Quadratic">q(α).</param>
/// <param name="CubicCoefficients">c₀ … c₃ of the least-squares cubic Σ c_k α^k (null with fewer than 4 finite points).</param>
/// <param name="QuarticCoefficients">c₀ … c₄ of the least-squares quartic (null with fewer than 5 finite points).</param>
/// <param name="Threshold">The relative error of the rise at which the quadratic model departs (0.1 = 10 %).</param>
/// <param name="DepartureNegative">
/// The smallest |α| on the α &lt; 0 side where |ΔL(α) − ½λα²| &gt; threshold · |½λα²| with ΔL = L(θ* + α v) − L(θ*),
/// i.e. where the quadratic model's prediction of the rise is off by more than the threshold; null if it holds on the
/// whole side.
/// </param>
/// <param name="DeparturePositive">The same on the α &gt; 0 side.</param>
public sealed record QuadraticModelComparison(
    string Direction,
    double Eigenvalue,
    double[] Coordinates,
    double[] Loss,
    double[] Quadratic,
    double[]? CubicCoefficients,
    double[]? QuarticCoefficients,
    double Threshold,
    double? DepartureNegative,
    double? DeparturePositive)
{
    /// <summary>Evaluates a fit's coefficients at α (Horner).</summary>
    public static double EvaluatePolynomial(double[] coefficients, double alpha)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        var value = 0.0;
        for (var k = coefficients.Length - 1; k >= 0; k--)
            value = value * alpha + coefficients[k];
        return value;
    }

    internal static QuadraticModelComparison Create(string direction, double eigenvalue, double[] alphas, double[] loss, double centerLoss, double threshold)
    {
        var quadratic = alphas.Select(a => centerLoss + 0.5 * eigenvalue * a * a).ToArray();
        double? negative = null, positive = null;
        // Walk outwards from the centre on each side; the first point past the threshold is the departure.
        foreach (var i in Enumerable.Range(0, alphas.Length).OrderBy(i => Math.Abs(alphas[i])))
        {
            var a = alphas[i];
            if (a == 0)
                continue;
            var predicted = 0.5 * eigenvalue * a * a;
            var rise = loss[i] - centerLoss;
            var departs = !double.IsFinite(rise) || Math.Abs(rise - predicted) > threshold * Math.Abs(predicted);
            if (!departs)
                continue;
            if (a < 0)
                negative ??= -a;
            else
                positive ??= a;
        }
        return new QuadraticModelComparison(direction, eigenvalue, alphas, loss, quadratic,
            PolynomialFit.LeastSquares(alphas, loss, 3), PolynomialFit.LeastSquares(alphas, loss, 4), threshold, negative, positive);
    }
}
