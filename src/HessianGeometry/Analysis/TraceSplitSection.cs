namespace HessianGeometry.Analysis;

/// <summary>tr H = tr GGN + tr R, each with its standard error (0 when exact), from the same probes.</summary>
public sealed record TraceSplitSection
{
    /// <summary>"hutchinson" (shared Rademacher probes) or "exact".</summary>
    public string Method { get; init; } = string.Empty;

    /// <summary>Probes used (0 when exact).</summary>
    public int Probes { get; init; }

    /// <summary>tr H.</summary>
    public double Hessian { get; init; }

    /// <summary>Standard error of <see cref="Hessian"/>.</summary>
    public double HessianStandardError { get; init; }

    /// <summary>tr GGN.</summary>
    public double Ggn { get; init; }

    /// <summary>Standard error of <see cref="Ggn"/>.</summary>
    public double GgnStandardError { get; init; }

    /// <summary>tr R = tr H − tr GGN (from the per-probe differences).</summary>
    public double Residual { get; init; }

    /// <summary>Standard error of <see cref="Residual"/>.</summary>
    public double ResidualStandardError { get; init; }
}
