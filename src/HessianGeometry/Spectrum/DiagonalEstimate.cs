using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// An estimate of diag(A) with one standard error per entry. Owns its two tensors; dispose it (or move the tensors out)
/// when done.
/// </summary>
/// <param name="Method">"hutchinson" (mean of z ⊙ Az over Rademacher probes) or "exact".</param>
/// <param name="Values">The estimate of diag(A), float64, shape [p], on the operator's device.</param>
/// <param name="StandardErrors">s_i/√n per entry (0 for an exact diagonal), float64, shape [p].</param>
/// <param name="Probes">n, the probes averaged (0 when exact).</param>
/// <param name="OperatorApplications">Products spent; shared with the traces estimated from the same probes.</param>
public sealed record DiagonalEstimate(string Method, Tensor Values, Tensor StandardErrors, int Probes, long OperatorApplications) : IDisposable
{
    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Values.Dispose();
        StandardErrors.Dispose();
    }
}
