using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Hutchinson's stochastic trace estimator (Hutchinson 1990, "A stochastic estimator of the trace of the influence
/// matrix for Laplacian smoothing splines"; Avron and Toledo 2011 for its variance): with Rademacher probes z
/// (E[zzᵀ] = I), tr(A) = E[zᵀAz] and tr(A²) = E[‖Az‖²]. The estimate averages n i.i.d. samples and reports
/// SE = s/√n from their sample standard deviation s. For Rademacher probes Var[zᵀAz] = 2·Σ_{i≠j} A_ij², so the
/// diagonal costs nothing and the error shrinks as 1/√n. Probes are applied in blocks through
/// <see cref="ILinearOperator.ApplyBlock"/>.
/// </summary>
public static class Hutchinson
{
    /// <summary>Estimates tr(A) = E[zᵀAz] with its standard error.</summary>
    /// <param name="op">The operator A (any square operator; for a Hessian every probe costs one Hessian-vector product).</param>
    /// <param name="options">Stopping rule, budget, block size and seed (defaults: SE ≤ 1% of |estimate|, 10 to 200 probes).</param>
    /// <param name="cancellationToken">Checked before every probe block.</param>
    public static TraceEstimate Trace(ILinearOperator op, TraceOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(op, options, wantTrace: true, wantSquare: false, cancellationToken).Trace!;

    /// <summary>
    /// Estimates tr(A²) = E[‖Az‖²] (for symmetric A, AᵀA = A²) with its standard error. The samples are non-negative, so
    /// unlike tr(A) this estimate cannot cancel to zero when A is indefinite.
    /// </summary>
    /// <param name="op">A symmetric operator.</param>
    /// <param name="options">Stopping rule, budget, block size and seed.</param>
    /// <param name="cancellationToken">Checked before every probe block.</param>
    public static TraceEstimate TraceOfSquare(ILinearOperator op, TraceOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(op, options, wantTrace: false, wantSquare: true, cancellationToken).Square!;

    /// <summary>
    /// Estimates tr(A) and tr(A²) from the same probes: each product y = Az gives both zᵀy and ‖y‖², so the pair costs
    /// what one of them costs. Both estimates report the shared probe count and operator applications; the run stops
    /// when both reach the relative target. The two are correlated (same probes); <see cref="WolkowiczStyan.FromEstimates"/>
    /// propagates their error bars in a way that stays valid under any correlation.
    /// </summary>
    /// <param name="op">A symmetric operator.</param>
    /// <param name="options">Stopping rule, budget, block size and seed.</param>
    /// <param name="cancellationToken">Checked before every probe block.</param>
    public static (TraceEstimate Trace, TraceEstimate TraceOfSquare) TraceAndTraceOfSquare(ILinearOperator op, TraceOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var (trace, square) = Run(op, options, wantTrace: true, wantSquare: true, cancellationToken);
        return (trace!, square!);
    }

    private static (TraceEstimate? Trace, TraceEstimate? Square) Run(ILinearOperator op, TraceOptions? options, bool wantTrace, bool wantSquare,
        CancellationToken cancellationToken)
    {
        Guard.NotNull(op, nameof(op));
        options ??= new TraceOptions();
        options.Validate();
        if (wantSquare && !op.IsSymmetric)
            throw new ArgumentException("op is not symmetric, so E‖Az‖² estimates tr(AᵀA) rather than tr(A²). Pass a symmetric operator (a Hessian is symmetric).", nameof(op));

        var run = RademacherProbeLoop.Run(op, options, wantTrace, wantSquare, null, cancellationToken);
        return (wantTrace ? run.Estimate("Hutchinson", run.TraceSamples) : null,
            wantSquare ? run.Estimate("Hutchinson tr(A²)", run.SquareSamples) : null);
    }
}
