namespace HessianGeometry.Spectrum;

/// <summary>How tr(H) (and tr(H²)) are obtained.</summary>
public enum TraceMethod
{
    /// <summary>Hutchinson's estimator (<see cref="Spectrum.Hutchinson"/>): tr(H) and tr(H²) from the same Rademacher probes, stopping at a relative error target.</summary>
    Hutchinson,

    /// <summary>Hutch++ (<see cref="Spectrum.HutchPlusPlus"/>): tr(H) only, with a fixed budget of products; tr(H²) and the Wolkowicz–Styan bounds are then not reported.</summary>
    HutchPlusPlus,

    /// <summary>Exact traces of the materialised Hessian (<see cref="ExactTraces"/>); chosen automatically with the exact eigen-solver.</summary>
    Exact,

    /// <summary>
    /// Exact traces in closed form for a network with one hidden layer (<see cref="OneHiddenLayerTraces"/>), without
    /// Hessian-vector products; chosen automatically when <see cref="TraceOptions.ClosedForm"/> is on and the model
    /// qualifies. Requested as a method, it is an error when the model does not qualify.
    /// </summary>
    ExactClosedForm,
}
