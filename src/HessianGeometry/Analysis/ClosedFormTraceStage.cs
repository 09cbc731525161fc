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
    /// Work of the closed form relative to the estimate it replaces, above which it is not chosen by itself: the closed
    /// form costs about n²(h² + ch + d) (pairs of samples), Hutchinson at most MaxProbes products of about n·p each
    /// (docs/spectrum.md, "Cost"), so with many samples and few inputs the estimate is the cheaper of the two.
    /// </summary>
    internal const double AutomaticWorkRatio = 4;

    /// <summary>Pair work n²(h² + ch + d) below which the closed form is always chosen (a fraction of a second).</summary>
    internal const double AlwaysAffordableWork = 1e8;

    /// <summary>
    /// The report with exact trace and Wolkowicz–Styan sections, or null when the closed form is switched off
    /// (<see cref="TraceOptions.ClosedForm"/>), does not apply, would cost more than the estimate or the curvature is not
    /// the Hessian (logged), so the caller estimates instead.
    /// </summary>
    /// <exception cref="NotSupportedException"><see cref="TraceMethod.ExactClosedForm"/> was requested for a model or curvature it does not cover.</exception>
    public static MinimumReport? TryRun(CurvatureOperator op, CurvatureKind curvature, TraceOptions options, MinimumReport report, ILogger log, CancellationToken ct)
    {
        var required = options.Method == TraceMethod.ExactClosedForm;
        if (!options.ClosedForm && !required)
            return null;
        if (curvature != CurvatureKind.Hessian)
        {
            if (required)
                throw new NotSupportedException($"TraceMethod.ExactClosedForm gives the traces of the Hessian, not of the {CurvatureOperators.NameOf(curvature)}. Use TraceMethod.Hutchinson with WithCurvature({curvature}), or analyse the Hessian.");
            return null;
        }
        if (!required && TooCostly(op, options, out var why))
        {
            log.LogInformation("Closed-form traces not chosen ({Reason}); estimating them. Ask for TraceMethod.ExactClosedForm to force it.", why);
            return null;
        }
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

    /// <summary>
    /// True when the closed form's pair work n²(h² + ch + d) is above <see cref="AlwaysAffordableWork"/> and above
    /// <see cref="AutomaticWorkRatio"/> times the probe work MaxProbes·n·p.
    /// </summary>
    private static bool TooCostly(CurvatureOperator op, TraceOptions options, out string reason)
    {
        reason = "";
        var steps = ExactMlpReader.TryRead(op.Risk, out _);
        var linear = steps?.Where(s => s.IsLinear).ToList();
        if (linear is not { Count: 2 })
            return false; // TryCompute says why it does not apply
        var d = (double)linear[0].Weight!.shape[1];
        var h = (double)linear[0].Weight!.shape[0];
        var c = (double)linear[1].Weight!.shape[0];
        var n = (double)op.Risk.SampleCount;
        var pairWork = n * (h * h + c * h + d);
        var probeWork = (double)options.MaxProbes * op.Dimension;
        if (pairWork <= AutomaticWorkRatio * probeWork || n * pairWork <= AlwaysAffordableWork)
            return false;
        reason = $"n = {op.Risk.SampleCount} samples make the closed form's pair sums about {pairWork / probeWork:G2}× the work of {options.MaxProbes} probes";
        return true;
    }
}
