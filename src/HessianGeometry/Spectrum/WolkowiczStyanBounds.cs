namespace HessianGeometry.Spectrum;

/// <summary>
/// Bounds on the extreme eigenvalues of a symmetric p×p matrix from its first two traces (Wolkowicz and Styan 1980,
/// "Bounds for eigenvalues using traces", Linear Algebra Appl. 29): with m = tr(A)/p and s² = tr(A²)/p − m²,
/// m + s/√(p−1) ≤ λ_max ≤ m + s√(p−1) and m − s√(p−1) ≤ λ_min ≤ m − s/√(p−1).
/// Built by <see cref="WolkowiczStyan"/>.
/// </summary>
/// <param name="Mean">m = tr(A)/p (from the central estimates when <paramref name="FromEstimates"/>).</param>
/// <param name="StandardDeviation">s = √(tr(A²)/p − m²), the spread of the eigenvalues.</param>
/// <param name="LambdaMaxLower">Lower bound on λ_max.</param>
/// <param name="LambdaMaxUpper">Upper bound on λ_max.</param>
/// <param name="LambdaMinLower">Lower bound on λ_min.</param>
/// <param name="LambdaMinUpper">Upper bound on λ_min.</param>
/// <param name="FromEstimates">
/// True when the traces were estimated: each bound is then widened outward to cover every (tr, tr²) within
/// <paramref name="Coverage"/> standard errors of the estimates.
/// </param>
/// <param name="Dimension">p.</param>
/// <param name="Coverage">k, the number of standard errors the bounds were widened by (0 for exact traces).</param>
public sealed record WolkowiczStyanBounds(double Mean, double StandardDeviation, double LambdaMaxLower, double LambdaMaxUpper, double LambdaMinLower,
    double LambdaMinUpper, bool FromEstimates, long Dimension, double Coverage);
