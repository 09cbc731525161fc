using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>tr(H) and tr(H²) with their error bars, the method, the products spent and whether the accuracy target was reached.</summary>
public sealed record TraceSection
{
    /// <summary>How the traces were obtained.</summary>
    public TraceMethod Method { get; init; }

    /// <summary>The method as the legacy <c>traceMethod</c> field writes it: "exact", "hutchinson" or "hutch++".</summary>
    public string MethodName => NameOf(Method);

    /// <summary>tr(H).</summary>
    public double Trace { get; init; }

    /// <summary>Standard error of <see cref="Trace"/> (0 when exact).</summary>
    public double TraceStandardError { get; init; }

    /// <summary>tr(H²), or null when the method does not estimate it (Hutch++).</summary>
    public double? TraceOfSquare { get; init; }

    /// <summary>Standard error of <see cref="TraceOfSquare"/>.</summary>
    public double? TraceOfSquareStandardError { get; init; }

    /// <summary>Independent random samples behind the standard errors (0 when exact).</summary>
    public int Probes { get; init; }

    /// <summary>Hessian-vector products the estimate spent (0 when exact: it reads the materialised Hessian).</summary>
    public long OperatorApplications { get; init; }

    /// <summary>
    /// True when the requested relative standard error was reached (exact traces and Hutch++, which spends a fixed budget:
    /// always true). False when Hutchinson used all its probes first: the values and error bars are valid, only wider than asked.
    /// </summary>
    public bool ReachedTarget { get; init; }

    /// <summary>Why something is missing (e.g. Hutch++ estimates tr(H) only, so tr(H²) and the Wolkowicz–Styan bounds are not reported); null otherwise.</summary>
    public string? Note { get; init; }

    /// <summary>The section for a trace estimate and, when the method gives one, an estimate of tr(H²) from the same run.</summary>
    /// <param name="method">The method that produced the estimates.</param>
    /// <param name="trace">tr(H).</param>
    /// <param name="traceOfSquare">tr(H²), or null.</param>
    public static TraceSection From(TraceMethod method, TraceEstimate trace, TraceEstimate? traceOfSquare)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return new TraceSection
        {
            Method = method,
            Trace = trace.Value,
            TraceStandardError = trace.StandardError,
            TraceOfSquare = traceOfSquare?.Value,
            TraceOfSquareStandardError = traceOfSquare?.StandardError,
            Probes = trace.Probes,
            OperatorApplications = trace.OperatorApplications,
            ReachedTarget = trace.ReachedTarget && (traceOfSquare?.ReachedTarget ?? true),
            Note = traceOfSquare is null ? $"{NameOf(method)} estimates tr(H) only: tr(H²) and the Wolkowicz–Styan bounds are not reported. Use Hutchinson for them." : null,
        };
    }

    /// <summary>The report name of a method: "exact", "hutchinson", "hutch++" or "exact-closed-form" (the values docs/report-format.md lists).</summary>
    public static string NameOf(TraceMethod method) => method switch
    {
        TraceMethod.Exact => "exact",
        TraceMethod.Hutchinson => "hutchinson",
        TraceMethod.HutchPlusPlus => "hutch++",
        TraceMethod.ExactClosedForm => "exact-closed-form",
        _ => method.ToString(),
    };
}
