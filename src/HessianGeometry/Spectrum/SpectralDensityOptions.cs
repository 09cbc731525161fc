using HessianGeometry.Internal;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Settings of <see cref="StochasticLanczosQuadrature"/>. Defaults follow the literature: PyHessian (Yao et al. 2020)
/// runs 1 × 100 Lanczos steps and Ghorbani, Krishnan and Xiao (2019) use about 90 steps; three runs of 90 steps cost
/// 270 Hessian-vector products and give the moments an error bar (one run cannot).
/// </summary>
public sealed record SpectralDensityOptions
{
    /// <summary>Independent Rademacher start vectors (default 3). Each run adds one sample to every moment estimate.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Lanczos steps m per run (default 90; clamped to p). The rule is exact for polynomials of degree ≤ 2m − 1.</summary>
    public int Steps { get; init; } = 90;

    /// <summary>
    /// Points of the density grid (default 10,000, as in PyHessian). The density stores cell averages, so it integrates to
    /// 1 at any resolution, but peaks narrower than the grid step h = (range + 2·pad)/(points − 1) are blurred to width h:
    /// with the default σ that happens for spectra wider than about 1000 units; raise the points to resolve them.
    /// </summary>
    public int GridPoints { get; init; } = 10_000;

    /// <summary>
    /// Variance σ² of the Gaussian kernel that smooths each quadrature node. Null (default) takes
    /// σ² = 1e-5·max(1, λ_max − λ_min), PyHessian's choice, with λ_max/λ_min the extreme nodes.
    /// </summary>
    public double? Variance { get; init; }

    /// <summary>
    /// Margin added on both sides of [λ_min, λ_max] for the grid. Null (default) takes max(6σ, one grid step), so the
    /// grid holds all but about 1e-9 of each kernel's mass (PyHessian pads by a fixed 0.01, which loses mass when σ is
    /// larger).
    /// </summary>
    public double? Padding { get; init; }

    /// <summary>Seed of the Rademacher start vectors; the same seed gives bitwise the same density.</summary>
    public long Seed { get; init; }

    internal void Validate()
    {
        Guard.Positive(Runs, nameof(Runs));
        Guard.Positive(Steps, nameof(Steps));
        Guard.InRange(GridPoints, 2, int.MaxValue, nameof(GridPoints), "The grid needs at least 2 points.");
        if (Variance is { } variance)
            Guard.Positive(variance, nameof(Variance), "Pass a positive kernel variance, or null for the default 1e-5·max(1, range).");
        if (Padding is { } padding)
            Guard.NonNegative(padding, nameof(Padding));
    }
}
