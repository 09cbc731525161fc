using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>
/// The report's <c>complexity.saturation</c>: how many inputs a float32 or a naive float64 pipeline cannot resolve
/// (‖∂ℓ/∂z‖_∞ below that precision's epsilon) and G counted without them (see <see cref="SaturatedInputs"/>).
/// </summary>
/// <param name="InputCount">n, the inputs of the alignment.</param>
/// <param name="SinglePrecision">Saturation at float32's epsilon 2⁻²³ and G without those inputs.</param>
/// <param name="DoublePrecisionNaive">Saturation at float64's epsilon 2⁻⁵² and G without those inputs.</param>
public sealed record SaturationSection(int InputCount, SaturationLevel SinglePrecision, SaturationLevel DoublePrecisionNaive)
{
    /// <summary>The section of a measurement (the per-input arrays stay out of the report).</summary>
    public static SaturationSection From(InputSaturation saturation)
    {
        ArgumentNullException.ThrowIfNull(saturation);
        return new SaturationSection(saturation.GradientNorms.Length, saturation.SinglePrecision, saturation.DoublePrecisionNaive);
    }
}
