namespace HessianGeometry.Analysis;

/// <summary>The defaults of the fluent API, in one place.</summary>
public static class AnalysisDefaults
{
    /// <summary>Eigen-solver: thick-restart Lanczos.</summary>
    public const string Solver = "lanczos";

    /// <summary>Relative residual ‖Hv − λv‖/|λ| at which an eigenpair counts as converged.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>Hessian-vector products allowed per eigen-solve.</summary>
    public const long MaxOperatorApplications = 5000;

    /// <summary>Random directions for the ε baseline (the paper uses 5).</summary>
    public const int EpsilonDirections = 5;

}
