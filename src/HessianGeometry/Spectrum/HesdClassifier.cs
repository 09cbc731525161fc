using HessianGeometry.Internal;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Classifies a Hessian eigenvalue spectral density as mainly positive, mainly negative or quasi-singular
/// (Gabdullin 2025, arXiv 2504.17618). Inputs: the extreme eigenvalues (from a Lanczos/LOBPCG solve) and the
/// stochastic Lanczos quadrature nodes θ_j and weights w_j (pooled over runs, w_j = τ_j/R, Σ_j w_j = 1).
/// <list type="bullet">
/// <item>C_t = λ_min/λ_max (signed): the paper's HESD-type criterion.</item>
/// <item>K_h05 = |Σ_{θ_j&lt;0} |θ_j w_j|^0.5 / Σ_{θ_j&gt;0} (θ_j w_j)^0.5|: the negative side's curvature mass against the positive side's.</item>
/// <item>NearZeroMass = Σ_{|θ_j| ≤ tol} w_j.</item>
/// </list>
/// Decision, in this order: MainlyNegative if C_t ≤ <see cref="HesdOptions.CtThreshold"/> or K_h05 &gt;
/// <see cref="HesdOptions.Kh05Threshold"/>; else QuasiSingular if NearZeroMass ≥ <see cref="HesdOptions.QuasiSingularMass"/>;
/// else MainlyPositive. Negative dominance is checked first because it makes Hessian analysis inapplicable whatever the
/// mass near zero does. The order and all thresholds but C_t's are this library's (see <see cref="HesdOptions"/>).
/// </summary>
public static class HesdClassifier
{
    /// <summary>Computes C_t, K_h05 and the near-zero mass and classifies the spectrum.</summary>
    /// <param name="lambdaMax">The largest eigenvalue.</param>
    /// <param name="lambdaMin">The smallest eigenvalue (≤ <paramref name="lambdaMax"/>).</param>
    /// <param name="density">Quadrature nodes and weights from <see cref="StochasticLanczosQuadrature.Estimate"/>.</param>
    /// <param name="options">Thresholds (defaults documented on <see cref="HesdOptions"/>).</param>
    public static HesdClassification Classify(double lambdaMax, double lambdaMin, SpectralDensity density, HesdOptions? options = null)
    {
        Guard.Finite(lambdaMax, nameof(lambdaMax));
        Guard.Finite(lambdaMin, nameof(lambdaMin));
        Guard.NotNull(density, nameof(density));
        if (lambdaMin > lambdaMax)
            throw new ArgumentException($"lambdaMin = {lambdaMin} exceeds lambdaMax = {lambdaMax}. Pass the smallest eigenvalue as lambdaMin and the largest as lambdaMax.", nameof(lambdaMin));
        if (density.Nodes.Length == 0 || density.Nodes.Length != density.Weights.Length)
            throw new ArgumentException("density has no quadrature runs, or nodes and weights of different counts. Pass the result of StochasticLanczosQuadrature.Estimate.", nameof(density));
        options ??= new HesdOptions();
        options.Validate();

        var ct = Ct(lambdaMax, lambdaMin);
        var runs = density.Nodes.Length;
        double negative = 0, positive = 0, nearZero = 0;
        for (var r = 0; r < runs; r++)
        {
            for (var j = 0; j < density.Nodes[r].Length; j++)
            {
                var theta = density.Nodes[r][j];
                var w = density.Weights[r][j] / runs;
                if (theta < 0)
                    negative += Math.Sqrt(Math.Abs(theta * w));
                else if (theta > 0)
                    positive += Math.Sqrt(theta * w);
                if (Math.Abs(theta) <= options.NearZeroTolerance)
                    nearZero += w;
            }
        }
        var kh05 = negative == 0 ? 0 : positive == 0 ? double.PositiveInfinity : negative / positive;

        var type = ct <= options.CtThreshold || kh05 > options.Kh05Threshold ? HesdType.MainlyNegative
            : nearZero >= options.QuasiSingularMass ? HesdType.QuasiSingular
            : HesdType.MainlyPositive;
        return new HesdClassification(type, ct, kh05, nearZero, lambdaMax, lambdaMin, options);
    }

    private static double Ct(double lambdaMax, double lambdaMin)
    {
        if (lambdaMax > 0)
            return lambdaMin / lambdaMax;
        // No positive curvature: the negative side dominates completely (or the spectrum is exactly zero).
        return lambdaMin < 0 ? double.NegativeInfinity : 0;
    }
}
