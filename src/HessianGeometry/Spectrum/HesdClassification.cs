namespace HessianGeometry.Spectrum;

/// <summary>The HESD type with the numbers it was decided from (see <see cref="HesdClassifier"/>).</summary>
/// <param name="Type">The type.</param>
/// <param name="Ct">C_t = λ_min/λ_max, signed (−∞ when λ_max ≤ 0 &lt; −λ_min: no positive curvature at all).</param>
/// <param name="Kh05">K_h05 = |Σ_{θ_j&lt;0} |θ_j w_j|^0.5| / Σ_{θ_j&gt;0} (θ_j w_j)^0.5 over the quadrature nodes (∞ with no positive node).</param>
/// <param name="NearZeroMass">Σ w_j over nodes with |θ_j| ≤ <see cref="HesdOptions.NearZeroTolerance"/>.</param>
/// <param name="LambdaMax">The λ_max passed in.</param>
/// <param name="LambdaMin">The λ_min passed in.</param>
/// <param name="Options">The thresholds used.</param>
public sealed record HesdClassification(HesdType Type, double Ct, double Kh05, double NearZeroMass, double LambdaMax, double LambdaMin, HesdOptions Options);
