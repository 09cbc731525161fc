using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;

namespace HessianGeometry.Analysis;

/// <summary>
/// The defaults of the fluent API, in one place. The option records (<see cref="AnalysisOptions"/> and its parts) take
/// their initial values from here, and the eigen-solver defaults are those of <see cref="EigenSolverOptions"/>, so the
/// analysis API and a direct solver call agree.
/// </summary>
public static class AnalysisDefaults
{
    /// <summary>Eigen-solver: thick-restart Lanczos.</summary>
    public const EigenSolverKind Solver = EigenSolverKind.Lanczos;

    /// <summary>Relative residual ‖Hv − λv‖/|λ| at which an eigenpair counts as converged (<see cref="EigenSolverOptions.DefaultTolerance"/>).</summary>
    public const double Tolerance = EigenSolverOptions.DefaultTolerance;

    /// <summary>Hessian-vector products allowed per eigen-solve (<see cref="EigenSolverOptions.DefaultMaxOperatorApplications"/>).</summary>
    public const long MaxOperatorApplications = EigenSolverOptions.DefaultMaxOperatorApplications;

    /// <summary>Random directions for the ε baseline (the paper uses 5).</summary>
    public const int EpsilonDirections = 5;

    /// <summary>The dtype of the analysis: float64.</summary>
    public const AnalysisPrecision Precision = AnalysisPrecision.Float64;

    /// <summary>Largest dense Hessian the exact solver may materialise (<see cref="ExactHessian.DefaultMemoryBudgetBytes"/>, 2 GiB).</summary>
    public const long ExactMemoryBudgetBytes = ExactHessian.DefaultMemoryBudgetBytes;

    /// <summary>The determinism check runs before any stage.</summary>
    public const bool CheckDeterminism = true;

    /// <summary>Seed of every random draw.</summary>
    public const long Seed = 0;
}
