using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// The eigenpairs one solver found, with the evidence for them. The same record for every solver, so they can be
/// swapped and compared.
/// </summary>
/// <param name="Solver">The solver's name.</param>
/// <param name="Which">The end of the spectrum asked for; it fixes the order of the pairs.</param>
/// <param name="Eigenvalues">
/// λ_i ordered as asked: descending (largest algebraic), ascending (smallest algebraic), or by |λ| descending
/// (largest magnitude). Length k, or fewer when power iteration ran out of budget before starting every pair.
/// </param>
/// <param name="Eigenvectors">Unit eigenvectors as columns, float64, shape [p, k], on the operator's device. Each column's entry of largest magnitude is positive.</param>
/// <param name="ResidualNorms">Absolute residuals ‖A v_i − λ_i v_i‖₂, computed from actual operator products.</param>
/// <param name="RelativeResiduals">‖A v_i − λ_i v_i‖₂ / |λ_i|, or the absolute residual when λ_i ≈ 0 (see <see cref="EigenSolverOptions.Tolerance"/>).</param>
/// <param name="ConvergedPairs">Whether each pair met the tolerance.</param>
/// <param name="Iterations">Outer iterations (Lanczos: restart cycles; power: iterations over all pairs; LOBPCG: block iterations).</param>
/// <param name="OperatorApplications">Operator applications (HVPs) the solve spent: the change in <c>ApplicationCount</c>.</param>
/// <param name="WallTime">Elapsed wall-clock time of the solve.</param>
public sealed record EigenResult(
    string Solver,
    SpectrumEnd Which,
    double[] Eigenvalues,
    Tensor Eigenvectors,
    double[] ResidualNorms,
    double[] RelativeResiduals,
    bool[] ConvergedPairs,
    int Iterations,
    long OperatorApplications,
    TimeSpan WallTime) : IDisposable
{
    /// <summary>True when every requested pair was found and met the tolerance.</summary>
    public bool Converged => ConvergedPairs.Length > 0 && ConvergedPairs.All(c => c) && Requested <= ConvergedPairs.Length;

    /// <summary>The number of pairs requested (<see cref="EigenSolverOptions.Count"/>).</summary>
    public int Requested { get; init; } = Eigenvalues.Length;

    /// <summary>Frees the eigenvector tensor.</summary>
    public void Dispose() => Eigenvectors.Dispose();
}
