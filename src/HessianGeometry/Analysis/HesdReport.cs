using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>Quantities behind the HESD classification (arXiv 2504.17618).</summary>
/// <param name="Type">MainlyPositive, MainlyNegative or QuasiSingular.</param>
/// <param name="Ct">C_t = λmin / λmax.</param>
/// <param name="Kh05">K_h05 = |Σ_{λ&lt;0} |λ w|^½ / Σ_{λ&gt;0} (λ w)^½|.</param>
/// <param name="NearZeroMass">Spectral mass within the near-zero band.</param>
public sealed record HesdReport(string Type, double Ct, double Kh05, double NearZeroMass)
{
    /// <summary>The report of a classification.</summary>
    public static HesdReport From(HesdClassification classification)
    {
        ArgumentNullException.ThrowIfNull(classification);
        return new(classification.Type.ToString(), classification.Ct, classification.Kh05, classification.NearZeroMass);
    }
}
