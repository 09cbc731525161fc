using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Microsoft.Extensions.Logging;

namespace HessianGeometry.Analysis;

/// <summary>
/// The trace stage's exact path for networks with one hidden layer: tr(H), tr(H²) and the Wolkowicz–Styan bounds from
/// <see cref="OneHiddenLayerTraces"/>, with no Hessian-vector product, in place of the stochastic estimate.
/// </summary>
internal static class ClosedFormTraceStage
{
    /// <summary>
    /// The report with exact trace and Wolkowicz–Styan sections, or null when the closed form is switched off
    /// (<see cref="TraceOptions.ClosedForm"/>) or does not apply (logged), so the caller estimates instead.
    /// </summary>
    /// <exception cref="NotSupportedException"><see cref="TraceMethod.ExactClosedForm"/> was requested for a model it does not cover.</exception>
    public static MinimumReport? TryRun(LossHessianOperator op, TraceOptions options, MinimumReport report, ILogger log, CancellationToken ct)
    {
        var required = options.Method == TraceMethod.ExactClosedForm;
        if (!options.ClosedForm && !required)
            return null;
        var traces = OneHiddenLayerTraces.TryCompute(op.Risk, ct, out var reason);
        if (traces is null)
        {
            if (required)
                throw new NotSupportedException($"TraceMethod.ExactClosedForm does not apply: {reason}. Use TraceMethod.Hutchinson (the closed form is still used where it applies).");
            log.LogInformation("Closed-form traces do not apply ({Reason}); estimating them.", reason);
            return null;
        }
        var name = TraceSection.NameOf(TraceMethod.ExactClosedForm);
        var section = TraceSection.From(TraceMethod.ExactClosedForm, new TraceEstimate(name, traces.Trace, 0, 0, 0, true), new TraceEstimate(name, traces.TraceOfSquare, 0, 0, 0, true))
            with { Note = $"Exact, in closed form for one hidden layer ({traces.Network}) from {traces.Samples} samples; no Hessian-vector products." };
        return report with
        {
            Traces = section,
            WolkowiczStyan = op.Dimension >= 2 ? WolkowiczStyanSection.From(WolkowiczStyan.FromTraces(op.Dimension, traces.Trace, traces.TraceOfSquare)) : null,
        };
    }
}
