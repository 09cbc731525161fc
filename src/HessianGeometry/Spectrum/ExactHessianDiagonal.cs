using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// The exact Hessian diagonal of supported models without forming H (the seam the analysis calls before falling back
/// to the stochastic estimate). This build has no exact engine: <see cref="TryCompute"/> always declines.
/// </summary>
public static class ExactHessianDiagonal
{
    /// <summary>Returns diag(H) [p] in the analysis dtype, or null with the reason when the model is not supported.</summary>
    /// <param name="risk">The empirical risk whose Hessian diagonal is wanted.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <param name="reason">Why the exact diagonal is not available (null when it is).</param>
    public static Tensor? TryCompute(EmpiricalRisk risk, CancellationToken cancellationToken, out string reason)
    {
        ArgumentNullException.ThrowIfNull(risk);
        cancellationToken.ThrowIfCancellationRequested();
        reason = "exact diagonal not available in this build";
        return null;
    }
}
