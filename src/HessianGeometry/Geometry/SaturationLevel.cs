namespace HessianGeometry.Geometry;

/// <summary>
/// The inputs a pipeline of one precision cannot resolve, and the boundary complexity counted without them.
/// </summary>
/// <param name="Precision">"float32" or "float64-naive".</param>
/// <param name="Threshold">u, that precision's machine epsilon: an input is saturated when ‖∂ℓ/∂z‖_∞ &lt; u.</param>
/// <param name="SaturatedCount">Inputs with ‖∂ℓ/∂z‖_∞ &lt; u.</param>
/// <param name="LargestSaturatedGradientNorm">The largest ‖g(x)‖ among them (0 when none), for comparison with thresholds on ‖g‖.</param>
/// <param name="InputsKept">n minus <paramref name="SaturatedCount"/>.</param>
/// <param name="EncodingCountMean">#{i : m_i &gt; ε_mean} with m_i averaged over the kept inputs only (0 when none is kept).</param>
/// <param name="EncodingCountMax">#{i : max |A_i| &gt; ε_max} over the kept inputs.</param>
/// <param name="ComplexityMean">G for the mean statistic over the kept inputs: count / p.</param>
/// <param name="ComplexityMax">G for the max statistic over the kept inputs.</param>
/// <param name="EpsilonMean">ε_mean used: the explicit value, or the random baseline measured on the kept inputs.</param>
/// <param name="EpsilonMax">ε_max used.</param>
public sealed record SaturationLevel(
    string Precision,
    double Threshold,
    int SaturatedCount,
    double LargestSaturatedGradientNorm,
    int InputsKept,
    int EncodingCountMean,
    int EncodingCountMax,
    double ComplexityMean,
    double ComplexityMax,
    double EpsilonMean,
    double EpsilonMax);
