using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Hutch++ (Meyer, Musco, Musco and Woodruff 2021, "Hutch++: Optimal Stochastic Trace Estimation", SOSA): spend a third
/// of the budget on a sketch AS, take Q = orth(AS), count the top subspace exactly and Hutchinson only on the rest:
/// tr(A) = tr(QᵀAQ) + tr((I − QQᵀ)A(I − QQᵀ)) ≈ tr(QᵀAQ) + (1/n)·Σ_i g_iᵀ(I − QQᵀ)A(I − QQᵀ)g_i.
/// For any Q the second term is an unbiased estimate of the deflated trace, so the estimate is unbiased, and when a few
/// large eigenvalues dominate (Hessians: outliers over a bulk) its variance is far below Hutchinson's at equal cost
/// (O(1/m) relative error instead of O(1/√m) for positive semidefinite A).
/// </summary>
public static class HutchPlusPlus
{
    /// <summary>
    /// Estimates tr(A) with exactly <paramref name="operatorApplications"/> products: k = ⌊m/3⌋ for the sketch
    /// (clamped to p), k for AQ, and the remaining n = m − 2k Rademacher probes for the deflated part. The standard
    /// error is s/√n over the n deflated samples; it is the error conditional on the sketch, and since the estimate is
    /// unbiased for every sketch it is also the error of the whole estimate.
    /// </summary>
    /// <param name="op">The operator A.</param>
    /// <param name="operatorApplications">The budget m (at least 6, so the deflated part has at least 2 samples for an error bar).</param>
    /// <param name="seed">Seed of the sketch and probe vectors.</param>
    /// <param name="cancellationToken">Checked between the three phases.</param>
    public static TraceEstimate Trace(ILinearOperator op, int operatorApplications, long seed = 0, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(op, nameof(op));
        Guard.InRange(operatorApplications, 6, int.MaxValue, nameof(operatorApplications),
            "Hutch++ needs a third of the budget for the sketch and at least 2 probes for the error bar.");
        using var scope = NewDisposeScope();
        var p = op.Dimension;
        using var generator = RandomVectors.CreateGenerator(seed);
        var sketchSize = (int)Math.Min(operatorApplications / 3, p);
        var residualProbes = operatorApplications - 2 * sketchSize;

        // Phase 1: sketch. Householder QR returns orthonormal columns even when AS is rank deficient.
        cancellationToken.ThrowIfCancellationRequested();
        var s = RandomVectors.Rademacher(p, sketchSize, generator, op.DType, op.Device);
        var sketch = op.ApplyBlock(s).to(ScalarType.Float64);
        var (q, _) = linalg.qr(sketch);

        // Phase 2: the exact trace on the sketched subspace.
        cancellationToken.ThrowIfCancellationRequested();
        var aq = op.ApplyBlock(q.to(op.DType)).to(ScalarType.Float64);
        var topTrace = (q * aq).sum().item<double>();

        // Phase 3: Hutchinson on the deflated operator (I − QQᵀ)A(I − QQᵀ): g_iᵀ P A P g_i = w_iᵀ A w_i with w = P g.
        cancellationToken.ThrowIfCancellationRequested();
        var g = RandomVectors.Rademacher(p, residualProbes, generator, ScalarType.Float64, op.Device);
        var w = g - q.mm(q.T.mm(g));
        var aw = op.ApplyBlock(w.to(op.DType)).to(ScalarType.Float64);
        var samples = (w * aw).sum(dim: 0).cpu().data<double>().ToArray();
        var (residualTrace, standardError) = TraceSamples.MeanAndStandardError(samples);

        return new TraceEstimate("Hutch++", topTrace + residualTrace, standardError, residualProbes, (long)2 * sketchSize + residualProbes, true);
    }
}
