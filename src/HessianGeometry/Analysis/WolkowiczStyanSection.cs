using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>Wolkowicz–Styan (1980) trace bounds: m ± s/√(p−1) and m ± s√(p−1), with m = tr(H)/p, s² = tr(H²)/p − m².</summary>
/// <param name="Mean">m = tr(H)/p.</param>
/// <param name="StandardDeviation">s.</param>
/// <param name="LambdaMaxLower">Lower bound on λmax.</param>
/// <param name="LambdaMaxUpper">Upper bound on λmax.</param>
/// <param name="LambdaMinLower">Lower bound on λmin.</param>
/// <param name="LambdaMinUpper">Upper bound on λmin.</param>
/// <param name="FromEstimates">True when computed from stochastic trace estimates (error bars propagated).</param>
public sealed record WolkowiczStyanSection(double Mean, double StandardDeviation, double LambdaMaxLower, double LambdaMaxUpper,
    double LambdaMinLower, double LambdaMinUpper, bool FromEstimates)
{
    /// <summary>The section for computed bounds.</summary>
    public static WolkowiczStyanSection From(WolkowiczStyanBounds bounds)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        return new(bounds.Mean, bounds.StandardDeviation, bounds.LambdaMaxLower, bounds.LambdaMaxUpper, bounds.LambdaMinLower, bounds.LambdaMinUpper, bounds.FromEstimates);
    }
}
