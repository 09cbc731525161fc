namespace HessianGeometry.Geometry;

/// <summary>
/// Inputs whose reinforcing gradient a plain float32 or float64 pipeline would lose to rounding, and the boundary
/// complexity without them (<see cref="SaturatedInputs"/>).
/// </summary>
/// <param name="OutputGradientScale">‖∂ℓ_j/∂z_j‖_∞ per input (z the model output; for cross-entropy 1 − p_t), computed without cancellation.</param>
/// <param name="GradientNorms">‖g(x_j)‖ per input.</param>
/// <param name="SinglePrecision">Saturation at float32's u = 2⁻²³.</param>
/// <param name="DoublePrecisionNaive">Saturation at float64's u = 2⁻⁵² for a pipeline that forms p_t − 1.</param>
public sealed record InputSaturation(double[] OutputGradientScale, double[] GradientNorms, SaturationLevel SinglePrecision, SaturationLevel DoublePrecisionNaive);
