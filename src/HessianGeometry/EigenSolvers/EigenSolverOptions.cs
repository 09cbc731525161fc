using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// What an <see cref="IEigenSolver"/> is asked for, in the spirit of scipy's <c>eigsh</c> / <c>lobpcg</c> arguments.
/// Immutable; checked once when a solve starts.
/// </summary>
public sealed record EigenSolverOptions
{
    /// <summary>Default relative residual tolerance, 1e-6 (also the analysis API's default).</summary>
    public const double DefaultTolerance = 1e-6;

    /// <summary>Default budget of operator applications per solve, 5,000 (also the analysis API's default).</summary>
    public const long DefaultMaxOperatorApplications = 5000;

    /// <summary>k, the number of eigenpairs wanted: 1 ≤ k &lt; p. For k ≥ p compute the exact Hessian instead.</summary>
    public int Count { get; init; } = 1;

    /// <summary>Which end of the spectrum to return.</summary>
    public SpectrumEnd Which { get; init; } = SpectrumEnd.LargestAlgebraic;

    /// <summary>
    /// Convergence tolerance on the relative residual ‖Av − λv‖₂ / |λ| of every wanted pair (‖v‖ = 1). When λ ≈ 0
    /// (|λ| ≤ 1e-8 times the largest |λ| seen) the absolute residual ‖Av − λv‖₂ is used instead. Must be positive.
    /// </summary>
    public double Tolerance { get; init; } = DefaultTolerance;

    /// <summary>
    /// Budget of operator applications (Hessian-vector products; a block of b columns counts b). A solver stops when the
    /// next product would exceed it and returns what it has with <see cref="EigenResult.Converged"/> = false.
    /// Default <see cref="DefaultMaxOperatorApplications"/>. The exact solver (<see cref="DenseEigenSolver"/>) has a fixed cost of p products and ignores it.
    /// </summary>
    public long MaxOperatorApplications { get; init; } = DefaultMaxOperatorApplications;

    /// <summary>
    /// Optional start vector(s), shape [p] or [p, k], any floating dtype; they must be finite and (for [p, k]) of full
    /// column rank. Lanczos starts from their sum, power iteration starts pair i from column i, LOBPCG uses them as its
    /// initial block. Null draws Gaussian start vectors from <see cref="Seed"/>.
    /// </summary>
    public Tensor? StartVectors { get; init; }

    /// <summary>Seeds every random draw (start vectors, fresh vectors after a breakdown): equal seeds give bitwise equal results.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Lanczos only: m, the largest Krylov basis kept between thick restarts (k &lt; m ≤ p). Null picks
    /// <see cref="Lanczos.DefaultKrylovDimension"/>. Memory is <see cref="Lanczos.RequiredBytes"/>, about 4·m·p float64
    /// numbers (the basis, its products, and their concatenation at a thick restart).
    /// </summary>
    public int? KrylovDimension { get; init; }

    /// <summary>
    /// Lanczos only: the most memory its Krylov basis may take, in bytes. A solve whose basis needs more
    /// (<see cref="Lanczos.RequiredBytes"/>) is refused with an <see cref="InsufficientMemoryException"/> before anything
    /// is allocated. Null (default) allows, on the CPU, the memory available to the process; on a GPU, no limit.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>
    /// LOBPCG only: an optional preconditioner T applied to the residual block, R ← T(R), for R of shape [p, b] in
    /// float64 on the operator's device; it must return the same shape. T ≈ (A − σI)⁻¹ speeds convergence; null means T = I.
    /// </summary>
    public Func<Tensor, Tensor>? Preconditioner { get; init; }
}
