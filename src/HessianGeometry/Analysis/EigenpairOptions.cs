namespace HessianGeometry.Analysis;

/// <summary>One end of the spectrum to compute: how many pairs, to what tolerance, within what budget.</summary>
public sealed record EigenpairOptions
{
    /// <summary>Number of eigenpairs (0 = none).</summary>
    public int Count { get; init; }

    /// <summary>Relative residual ‖Hv − λv‖/|λ| at which a pair counts as converged (default <see cref="AnalysisDefaults.Tolerance"/>).</summary>
    public double Tolerance { get; init; } = AnalysisDefaults.Tolerance;

    /// <summary>Hessian-vector products allowed for this solve (default <see cref="AnalysisDefaults.MaxOperatorApplications"/>; the exact solver ignores it).</summary>
    public long MaxOperatorApplications { get; init; } = AnalysisDefaults.MaxOperatorApplications;
}
