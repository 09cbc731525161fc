using HessianGeometry.EigenSolvers;

namespace HessianGeometry.Analysis;

/// <summary>The eigenpairs at one end of the spectrum with all the evidence the solver gave for them.</summary>
public sealed record EigenpairsSection
{
    /// <summary>The solver that computed them (lanczos, lobpcg, power, exact or a custom solver's name).</summary>
    public string Solver { get; init; } = string.Empty;

    /// <summary>The end of the spectrum: LargestAlgebraic (descending order) or SmallestAlgebraic (ascending).</summary>
    public SpectrumEnd Which { get; init; }

    /// <summary>Pairs requested.</summary>
    public int Requested { get; init; }

    /// <summary>Eigenvalues in the order of <see cref="Which"/>.</summary>
    public double[] Eigenvalues { get; init; } = [];

    /// <summary>‖H v_i − λ_i v_i‖ for each pair.</summary>
    public double[] ResidualNorms { get; init; } = [];

    /// <summary>‖H v_i − λ_i v_i‖ / |λ_i| (the absolute residual when λ_i ≈ 0).</summary>
    public double[] RelativeResiduals { get; init; } = [];

    /// <summary>Whether each pair met the tolerance.</summary>
    public bool[] ConvergedPairs { get; init; } = [];

    /// <summary>True when every requested pair was found and met the tolerance; false when the budget ran out first.</summary>
    public bool Converged { get; init; }

    /// <summary>Outer iterations of the solver (1 for the exact solver).</summary>
    public int Iterations { get; init; }

    /// <summary>Hessian-vector products the solve spent (the exact solver: the p products that materialised the Hessian).</summary>
    public long OperatorApplications { get; init; }

    /// <summary>The exact solver only: how the dense eigen-decomposition was computed (routine, threads, MKL kernels); null otherwise.</summary>
    public EigendecompositionRoute? Eigendecomposition { get; init; }
    /// <summary>
    /// For the exact solver, how the dense matrix was built: from the MLP's structure (blockwise matrix products) or from
    /// p unit-vector products, and why; null for iterative solvers.
    /// </summary>
    public string? MatrixBuild { get; init; }

    /// <summary>The section for a solver's result.</summary>
    public static EigenpairsSection From(EigenResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new EigenpairsSection
        {
            Solver = result.Solver,
            Which = result.Which,
            Requested = result.Requested,
            Eigenvalues = result.Eigenvalues,
            ResidualNorms = result.ResidualNorms,
            RelativeResiduals = result.RelativeResiduals,
            ConvergedPairs = result.ConvergedPairs,
            Converged = result.Converged,
            Iterations = result.Iterations,
            OperatorApplications = result.OperatorApplications,
        };
    }
}
