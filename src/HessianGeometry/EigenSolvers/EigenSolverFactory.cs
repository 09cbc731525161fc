namespace HessianGeometry.EigenSolvers;

/// <summary>Creates eigen-solvers by name, for configuration files and command lines.</summary>
public static class EigenSolverFactory
{
    /// <summary>The accepted names: "lanczos", "lobpcg", "power".</summary>
    public static IReadOnlyList<string> Names { get; } = ["lanczos", "lobpcg", "power"];

    /// <summary>A solver with default settings: "lanczos" (<see cref="Lanczos"/>), "lobpcg" (<see cref="Lobpcg"/>) or "power" (<see cref="PowerIteration"/>); case-insensitive.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static IEigenSolver Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "LANCZOS" => new Lanczos(),
            "LOBPCG" => new Lobpcg(),
            "POWER" => new PowerIteration(),
            _ => throw new ArgumentException($"Unknown eigen-solver '{name}'. Use one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
