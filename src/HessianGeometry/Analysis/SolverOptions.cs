using System.Text.Json.Serialization;
using HessianGeometry.EigenSolvers;

namespace HessianGeometry.Analysis;

/// <summary>Which eigen-solver computes the eigenpairs: one of the built-in kinds, or a custom instance (recorded by name).</summary>
public sealed record SolverOptions
{
    /// <summary>The built-in solver (default <see cref="AnalysisDefaults.Solver"/>); ignored when <see cref="Custom"/> is set.</summary>
    public EigenSolverKind Kind { get; init; } = AnalysisDefaults.Solver;

    /// <summary>A custom solver instance (e.g. a variant being benchmarked), or null. Not serialised; the report records its <see cref="Name"/>.</summary>
    [JsonIgnore]
    public IEigenSolver? Custom { get; init; }

    /// <summary>The solver's name as reports show it: the custom solver's <see cref="IEigenSolver.Name"/>, or "lanczos", "lobpcg", "power", "exact".</summary>
    public string Name => Custom?.Name ?? EigenSolverFactory.NameOf(Kind);

    /// <summary>True when a custom instance was supplied.</summary>
    public bool IsCustom => Custom is not null;

    /// <summary>True when the eigenpairs come from a dense decomposition of the materialised Hessian (then every eigenpair and exact traces are available).</summary>
    public bool IsExact => Custom is DenseEigenSolver || (Custom is null && Kind == EigenSolverKind.Exact);
}
