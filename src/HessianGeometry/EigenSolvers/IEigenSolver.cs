using HessianGeometry.Operators;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// A symmetric eigen-solver: finds k eigenpairs (λ_i, v_i) with A v_i = λ_i v_i at one end of the
/// spectrum from products A·v. Implementations: <see cref="Lanczos"/>, <see cref="PowerIteration"/>, <see cref="Lobpcg"/>, and the dense <see cref="DenseEigenSolver"/>.
/// </summary>
public interface IEigenSolver
{
    /// <summary>The solver's short name ("lanczos", "power", "lobpcg", "exact"), as accepted by <see cref="EigenSolverFactory.Create(string)"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Computes <see cref="EigenSolverOptions.Count"/> eigenpairs of the symmetric operator <paramref name="op"/>.
    /// A run that exhausts its budget returns what it found with <see cref="EigenResult.Converged"/> = false.
    /// </summary>
    /// <param name="op">A symmetric operator (<see cref="ILinearOperator.IsSymmetric"/>).</param>
    /// <param name="options">What to compute; validated before any product.</param>
    /// <param name="cancellationToken">Checked before every operator application; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="progress">Optional progress sink, reported once per iteration.</param>
    /// <returns>An immutable result that owns its eigenvector tensor (dispose it, or let a dispose scope do so).</returns>
    /// <exception cref="ArgumentException">Invalid options, a non-symmetric operator, or bad start vectors.</exception>
    /// <exception cref="ArithmeticException">The operator produced NaN or Inf.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "The public API fixes the order (token, then progress), as in the other analyses of this library.")]
    EigenResult Solve(ILinearOperator op, EigenSolverOptions options, CancellationToken cancellationToken = default,
        IProgress<EigenSolverProgress>? progress = null);
}
