using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// The exact eigen-solver ("exact"): materialises the operator as a dense float64 matrix, from the MLP's structure
/// where it can, otherwise from p unit-vector products (<see cref="ExactHessian.Build"/>, refused beyond
/// <see cref="MemoryBudgetBytes"/>; <see cref="DenseSpectrum.MatrixBuild"/> says which), decomposes it (<see cref="Method"/>: <c>torch.linalg.eigh</c>, or the
/// range-revealing route of <see cref="RangeRevealingEigh"/> for numerically low-rank matrices) and returns the wanted pairs with the same evidence as the iterative solvers. Unlike them it
/// can return all p pairs (k = p). Its cost is fixed: p products (one for a structural MLP build) and O(p³) for the decomposition, whatever
/// <see cref="EigenSolverOptions.MaxOperatorApplications"/> says; memory 8p² bytes (twice that while decomposing).
/// Use <see cref="Decompose"/> to keep the decomposition for several consumers instead of solving twice.
/// </summary>
/// <param name="memoryBudgetBytes">Largest dense matrix allowed, in bytes (default <see cref="ExactHessian.DefaultMemoryBudgetBytes"/>).</param>
/// <param name="method">The dense route (default <see cref="EigendecompositionMethod.Auto"/>: range-revealing for numerically low-rank matrices of p ≥ <see cref="RangeRevealingEigh.MinimumDimension"/>, else <c>linalg.eigh</c>).</param>
/// <param name="maxRankFraction">The range-revealing route gives up above this rank r/p (default <see cref="RangeRevealingEigh.MaxRankFraction"/>, where it stops paying); in (0, 1].</param>
public sealed class DenseEigenSolver(long memoryBudgetBytes = ExactHessian.DefaultMemoryBudgetBytes, EigendecompositionMethod method = EigendecompositionMethod.Auto,
    double maxRankFraction = RangeRevealingEigh.MaxRankFraction) : IEigenSolver
{
    /// <summary>The name this solver reports: "exact".</summary>
    public const string SolverName = "exact";

    /// <inheritdoc />
    public string Name => SolverName;

    /// <summary>Largest dense matrix allowed, in bytes.</summary>
    public long MemoryBudgetBytes { get; } = memoryBudgetBytes > 0
        ? memoryBudgetBytes
        : throw new ArgumentOutOfRangeException(nameof(memoryBudgetBytes), memoryBudgetBytes, "Pass a positive memory budget in bytes, e.g. ExactHessian.DefaultMemoryBudgetBytes.");

    /// <summary>The dense route this solver decomposes with.</summary>
    public EigendecompositionMethod Method { get; } = Enum.IsDefined(method)
        ? method
        : throw new ArgumentOutOfRangeException(nameof(method), method, "Use EigendecompositionMethod.Auto, Full or Range.");

    /// <summary>The range-revealing route gives up above this rank r/p.</summary>
    public double MaxRankFraction { get; } = maxRankFraction is > 0 and <= 1
        ? maxRankFraction
        : throw new ArgumentOutOfRangeException(nameof(maxRankFraction), maxRankFraction, "Pass a rank fraction r/p in (0, 1], e.g. RangeRevealingEigh.MaxRankFraction.");

    /// <summary>
    /// Materialises <paramref name="op"/> and decomposes it once; the returned spectrum serves any number of
    /// <see cref="DenseSpectrum.Pairs"/> calls, exact traces and the full eigenvector basis.
    /// </summary>
    /// <param name="op">A symmetric operator.</param>
    /// <param name="cancellationToken">Checked between block products.</param>
    /// <exception cref="InsufficientMemoryException">The dense matrix would exceed <see cref="MemoryBudgetBytes"/>.</exception>
    public DenseSpectrum Decompose(ILinearOperator op, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(op, nameof(op));
        TorchRuntime.EnsureLoaded();
        if (!op.IsSymmetric)
            throw new ArgumentException($"The exact eigen-solver needs a symmetric operator but {op.GetType().Name} reports IsSymmetric = false. Symmetrise it, e.g. (A + Aᵀ)/2.", nameof(op));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before = op.ApplicationCount;
        using var scope = NewDisposeScope();
        var built = ExactHessian.Build(op, ScalarType.Float64, MemoryBudgetBytes, cancellationToken: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var spectrum = DenseSpectrum.FromMatrix(built.Matrix, op.ApplicationCount - before, clock.Elapsed, Method, cancellationToken, MaxRankFraction);
        spectrum.MatrixBuild = built.Note;
        return spectrum;
    }

    /// <inheritdoc />
    public EigenResult Solve(ILinearOperator op, EigenSolverOptions options, CancellationToken cancellationToken = default,
        IProgress<EigenSolverProgress>? progress = null)
    {
        Guard.NotNull(op, nameof(op));
        Guard.NotNull(options, nameof(options));
        Guard.InRange(options.Count, 1, op.Dimension, "options.Count", $"The exact solver returns 1 to p = {op.Dimension} pairs.");
        Guard.Defined(options.Which, "options.Which");
        Guard.Positive(options.Tolerance, "options.Tolerance", "Pass a relative residual tolerance such as 1e-6.");
        using var spectrum = Decompose(op, cancellationToken);
        var result = spectrum.Pairs(options.Which, options.Count, options.Tolerance);
        var worst = result.RelativeResiduals.Length == 0 ? 0 : result.RelativeResiduals.Max();
        progress?.Report(new EigenSolverProgress(Name, 1, result.OperatorApplications, result.ConvergedPairs.Count(c => c), worst));
        return result;
    }
}
