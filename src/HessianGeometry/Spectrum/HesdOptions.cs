using HessianGeometry.Internal;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Thresholds of <see cref="HesdClassifier"/>. Only <see cref="CtThreshold"/> comes from the paper (arXiv 2504.17618:
/// MP-HESD when C_t &gt; −0.6; checked against a published summary of the paper, not its full text). The other three are
/// this library's choices, because the paper's exact values could not be checked here; calibrate them on your models.
/// </summary>
public sealed record HesdOptions
{
    /// <summary>MainlyPositive needs C_t = λ_min/λ_max above this (default −0.6, from the paper).</summary>
    public double CtThreshold { get; init; } = -0.6;

    /// <summary>
    /// MainlyNegative when K_h05 exceeds this (default 1: the negative side's Σ|λw|^0.5 outweighs the positive side's).
    /// Library choice.
    /// </summary>
    public double Kh05Threshold { get; init; } = 1.0;

    /// <summary>
    /// A quadrature node θ counts as "near zero" when |θ| ≤ this (default 1e-3, absolute, in the Hessian's units).
    /// Absolute rather than relative to λ_max, because the quasi-singular type the paper describes is a collapse of the
    /// whole spectrum towards zero, which ratios such as C_t do not see. Library choice.
    /// </summary>
    public double NearZeroTolerance { get; init; } = 1e-3;

    /// <summary>QuasiSingular when the quadrature mass near zero is at least this (default 0.99). Library choice.</summary>
    public double QuasiSingularMass { get; init; } = 0.99;

    internal void Validate()
    {
        Guard.Finite(CtThreshold, nameof(CtThreshold));
        Guard.NonNegative(Kh05Threshold, nameof(Kh05Threshold));
        Guard.NonNegative(NearZeroTolerance, nameof(NearZeroTolerance));
        if (!(QuasiSingularMass > 0 && QuasiSingularMass <= 1))
            throw new ArgumentOutOfRangeException(nameof(QuasiSingularMass), QuasiSingularMass, $"QuasiSingularMass must lie in (0, 1] but was {QuasiSingularMass}. Pass a fraction of the spectral mass, e.g. 0.99.");
    }
}
