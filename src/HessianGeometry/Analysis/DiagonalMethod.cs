namespace HessianGeometry.Analysis;

/// <summary>How diag(H) is obtained (<see cref="HessianAnalysisBuilder.WithDiagonal(DiagonalMethod)"/>).</summary>
public enum DiagonalMethod
{
    /// <summary>Exact when available (the exact solver's dense Hessian, or <see cref="Spectrum.ExactHessianDiagonal"/> for supported models), otherwise stochastic.</summary>
    Auto,

    /// <summary>Exact, or the analysis fails with the reason it is not available.</summary>
    Exact,

    /// <summary>Hutchinson's diagonal estimator: the mean of z ⊙ Hz over Rademacher probes, with per-entry standard errors.</summary>
    Stochastic,
}
