using HessianGeometry.Operators;

namespace HessianGeometry.EigenSolvers;

/// <summary>Creates eigen-solvers by name or kind, for configuration files and command lines.</summary>
public static class EigenSolverFactory
{
    /// <summary>The matrix-free solvers' names: "lanczos", "lobpcg", "power" (they share the k &lt; p contract).</summary>
    public static IReadOnlyList<string> Names { get; } = ["lanczos", "lobpcg", "power"];

    /// <summary>Every accepted name: <see cref="Names"/> and "exact" (<see cref="DenseEigenSolver"/>).</summary>
    public static IReadOnlyList<string> AllNames { get; } = ["lanczos", "lobpcg", "power", "exact"];

    /// <summary>
    /// A solver with default settings: "lanczos" (<see cref="Lanczos"/>), "lobpcg" (<see cref="Lobpcg"/>), "power"
    /// (<see cref="PowerIteration"/>) or "exact" (<see cref="DenseEigenSolver"/>); case-insensitive.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="AllNames"/>.</exception>
    public static IEigenSolver Create(string name) => Create(Parse(name));

    /// <summary>
    /// A solver of <paramref name="kind"/>; <paramref name="exactMemoryBudgetBytes"/> bounds the dense matrix of
    /// <see cref="EigenSolverKind.Exact"/> and <paramref name="exactMethod"/> chooses its dense route.
    /// </summary>
    public static IEigenSolver Create(EigenSolverKind kind, long exactMemoryBudgetBytes = ExactHessian.DefaultMemoryBudgetBytes,
        EigendecompositionMethod exactMethod = EigendecompositionMethod.Auto) => kind switch
    {
        EigenSolverKind.Lanczos => new Lanczos(),
        EigenSolverKind.Lobpcg => new Lobpcg(),
        EigenSolverKind.Power => new PowerIteration(),
        EigenSolverKind.Exact => new DenseEigenSolver(exactMemoryBudgetBytes, exactMethod),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown eigen-solver kind {kind}. Use one of: {string.Join(", ", Enum.GetNames<EigenSolverKind>())}."),
    };

    /// <summary>The kind named <paramref name="name"/> (one of <see cref="AllNames"/>, case-insensitive, surrounding blanks ignored).</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="AllNames"/>.</exception>
    public static EigenSolverKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "LANCZOS" => EigenSolverKind.Lanczos,
            "LOBPCG" => EigenSolverKind.Lobpcg,
            "POWER" => EigenSolverKind.Power,
            "EXACT" => EigenSolverKind.Exact,
            _ => throw new ArgumentException($"Unknown eigen-solver '{name}'. Use one of: {string.Join(", ", AllNames)}.", nameof(name)),
        };
    }

    /// <summary>The short name of <paramref name="kind"/> as it appears in reports ("lanczos", "lobpcg", "power", "exact").</summary>
    public static string NameOf(EigenSolverKind kind) => kind switch
    {
        EigenSolverKind.Lanczos => "lanczos",
        EigenSolverKind.Lobpcg => "lobpcg",
        EigenSolverKind.Power => "power",
        EigenSolverKind.Exact => "exact",
        _ => kind.ToString(),
    };
}
