using System.Diagnostics;
using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// One dense symmetric eigen-decomposition A = V diag(λ) Vᵀ of a materialised operator, kept so that every consumer
/// (top and bottom eigenpairs, exact traces, the complexity count over all p eigenvectors) reads the same
/// decomposition instead of recomputing it. Owns its tensors: dispose it when done.
/// </summary>
public sealed class DenseSpectrum : IDisposable
{
    private readonly double scale;

    private DenseSpectrum(Tensor matrix, double[] eigenvalues, Tensor eigenvectors, double[] residualNorms, long operatorApplications, TimeSpan wallTime, EigendecompositionRoute route)
    {
        Route = route;
        Matrix = matrix;
        Eigenvalues = eigenvalues;
        Eigenvectors = eigenvectors;
        ResidualNorms = residualNorms;
        OperatorApplications = operatorApplications;
        WallTime = wallTime;
        scale = eigenvalues.Length == 0 ? 0 : eigenvalues.Max(Math.Abs);
    }

    /// <summary>The symmetric matrix (A + Aᵀ)/2, float64 [p, p]; symmetrising removes the rounding asymmetry of double backward.</summary>
    public Tensor Matrix { get; }

    /// <summary>All p eigenvalues, ascending (as <c>torch.linalg.eigh</c> returns them); the range-revealing route reports its null space as exact zeros.</summary>
    public IReadOnlyList<double> Eigenvalues { get; }

    /// <summary>Unit eigenvectors as columns, float64 [p, p], in the order of <see cref="Eigenvalues"/>.</summary>
    public Tensor Eigenvectors { get; }

    /// <summary>
    /// ‖A v_i − λ_i v_i‖₂ for every pair, from the dense matrix; for the null-space pairs of the range-revealing route
    /// the certified bound ‖A − XΛXᵀ‖_F instead (<see cref="ResidualIsBound"/>).
    /// </summary>
    public IReadOnlyList<double> ResidualNorms { get; }

    /// <summary>p, the dimension.</summary>
    public int Dimension => Eigenvalues.Count;

    /// <summary>Operator applications spent materialising the matrix (p for a Hessian).</summary>
    public long OperatorApplications { get; }

    /// <summary>How the decomposition was computed (routine, threads, MKL kernels).</summary>
    public EigendecompositionRoute Route { get; }
    /// <summary>How the matrix was materialised (structural MLP build or block products, and why); empty for <see cref="FromMatrix"/>.</summary>
    public string MatrixBuild { get; internal set; } = string.Empty;

    /// <summary>Time spent materialising and decomposing.</summary>
    public TimeSpan WallTime { get; }

    /// <summary>
    /// True for the pairs whose <see cref="ResidualNorms"/> entry is the certified bound ‖A − XΛXᵀ‖_F of the
    /// range-revealing route (the null-space pairs) rather than a computed residual; all false for <c>linalg.eigh</c>.
    /// </summary>
    public IReadOnlyList<bool> ResidualIsBound { get; private init; } = [];

    /// <summary>Decomposes a dense symmetric matrix (any floating dtype; it is symmetrised and converted to float64).</summary>
    /// <param name="matrix">A square, finite matrix.</param>
    /// <param name="operatorApplications">Products spent building <paramref name="matrix"/>, carried into every <see cref="EigenResult"/>.</param>
    /// <param name="elapsed">Time already spent building it.</param>
    /// <param name="method">The dense route (default <see cref="EigendecompositionMethod.Auto"/>); <see cref="Route"/> says which ran and why.</param>
    /// <param name="cancellationToken">Checked between the range finder's blocks.</param>
    /// <param name="maxRankFraction">The range-revealing route gives up above this rank r/p (default <see cref="RangeRevealingEigh.MaxRankFraction"/>); in (0, 1].</param>
    /// <exception cref="InvalidOperationException"><see cref="EigendecompositionMethod.Range"/> was forced and the matrix is not numerically low-rank enough, or its certificate failed.</exception>
    public static DenseSpectrum FromMatrix(Tensor matrix, long operatorApplications = 0, TimeSpan elapsed = default,
        EigendecompositionMethod method = EigendecompositionMethod.Auto, CancellationToken cancellationToken = default,
        double maxRankFraction = RangeRevealingEigh.MaxRankFraction)
    {
        Guard.SquareMatrix(matrix, nameof(matrix));
        Guard.Defined(method, nameof(method));
        if (!(maxRankFraction is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(maxRankFraction), maxRankFraction, "Pass a rank fraction r/p in (0, 1], e.g. RangeRevealingEigh.MaxRankFraction.");
        Guard.AllFinite(matrix, "matrix", "A dense eigen-decomposition needs finite entries; check the model and data for NaN/Inf.");
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var a = matrix.detach().to(ScalarType.Float64);
        // One p×p temporary: (A + Aᵀ) is new, the halving runs in place.
        var symmetric = (a + a.T).div_(2).contiguous();
        var p = symmetric.shape[0];
        var requested = method.ToString().ToLowerInvariant();
        string? note = null;
        RangeRevealingOutcome? abandoned = null;
        if (method == EigendecompositionMethod.Range || method == EigendecompositionMethod.Auto && p >= RangeRevealingEigh.MinimumDimension)
        {
            var outcome = RangeRevealingEigh.TryDecompose(symmetric, maxRankFraction: maxRankFraction, cancellationToken: cancellationToken);
            if (outcome.Vectors is { } vectors)
            {
                var range = EigendecompositionRoute.RangeRevealing() with
                {
                    Requested = requested,
                    Rank = outcome.Rank,
                    RelativeError = outcome.RelativeError,
                    Tolerance = outcome.Tolerance,
                    Note = $"{p - outcome.Rank} eigenvalues are 0 to within the certificate; their eigenvectors are an arbitrary orthonormal basis of that null space and their residual norms are the bound ‖A − XΛXᵀ‖_F, not computed residuals",
                };
                return new DenseSpectrum(symmetric.DetachFromDisposeScope(), outcome.Eigenvalues, vectors.DetachFromDisposeScope(), outcome.ResidualNorms, operatorApplications, elapsed + clock.Elapsed, range)
                {
                    ResidualIsBound = outcome.ResidualIsBound,
                };
            }
            if (method == EigendecompositionMethod.Range)
                throw new InvalidOperationException($"The range-revealing decomposition was forced but {outcome.FallbackReason}. Use EigendecompositionMethod.Auto (CLI: --eigendecomposition auto) to fall back to the full decomposition, or Full.");
            abandoned = outcome;
            note = $"range-revealing route tried and abandoned: {outcome.FallbackReason}; full decomposition used";
        }
        else if (method == EigendecompositionMethod.Auto)
        {
            note = $"p = {p} < {RangeRevealingEigh.MinimumDimension}: the full decomposition is cheap here";
        }
        var route = EigendecompositionRoute.LibtorchEigh() with
        {
            Requested = requested,
            Note = note,
            Rank = abandoned?.Rank,
            RelativeError = abandoned is { RelativeError: var e } && !double.IsNaN(e) ? e : null,
            Tolerance = abandoned?.Tolerance,
        };
        var (values, basis) = linalg.eigh(symmetric);
        var residuals = (symmetric.mm(basis) - basis * values.unsqueeze(0)).norm(0);
        var eigenvalues = values.cpu().data<double>().ToArray();
        var residualNorms = residuals.cpu().data<double>().ToArray();
        var kept = symmetric.DetachFromDisposeScope();
        var eigenvectors = basis.contiguous().DetachFromDisposeScope();
        return new DenseSpectrum(kept, eigenvalues, eigenvectors, residualNorms, operatorApplications, elapsed + clock.Elapsed, route)
        {
            ResidualIsBound = new bool[eigenvalues.Length],
        };
    }

    /// <summary>
    /// The <paramref name="count"/> pairs at <paramref name="which"/> as an <see cref="EigenResult"/> (1 iteration,
    /// <see cref="OperatorApplications"/> products), with relative residuals and convergence judged against
    /// <paramref name="tolerance"/> exactly as the iterative solvers judge theirs. The result owns a copy of its vectors.
    /// </summary>
    /// <param name="which">The end of the spectrum.</param>
    /// <param name="count">1 ≤ k ≤ p.</param>
    /// <param name="tolerance">Relative residual tolerance (positive).</param>
    public EigenResult Pairs(SpectrumEnd which, int count, double tolerance)
    {
        Guard.Defined(which, nameof(which));
        Guard.InRange(count, 1, Dimension, nameof(count), $"A dense decomposition has p = {Dimension} pairs; ask for 1 to {Dimension}.");
        Guard.Positive(tolerance, nameof(tolerance), "Pass a relative residual tolerance such as 1e-6.");
        var order = EigenSolverRun.Select(Eigenvalues, which, count);
        var values = order.Select(i => Eigenvalues[i]).ToArray();
        var residuals = order.Select(i => ResidualNorms[i]).ToArray();
        var relative = values.Select((v, i) => EigenSolverRun.Relative(residuals[i], v, scale)).ToArray();
        var converged = relative.Select(r => r <= tolerance).ToArray();
        using var scope = NewDisposeScope();
        var selected = Eigenvectors.index_select(1, tensor(order.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: Eigenvectors.device));
        var vectors = WithSignConvention(selected).contiguous().MoveToOuterDisposeScope();
        return new EigenResult(DenseEigenSolver.SolverName, which, values, vectors, residuals, relative, converged, 1, OperatorApplications, WallTime);
    }

    /// <summary>All p eigenvectors as columns ordered by descending eigenvalue, float64 [p, p] (a new tensor the caller owns).</summary>
    public Tensor EigenvectorsDescending()
    {
        using var scope = NewDisposeScope();
        return WithSignConvention(Eigenvectors.flip(1)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Frees the matrix and the eigenvectors.</summary>
    public void Dispose()
    {
        Matrix.Dispose();
        Eigenvectors.Dispose();
    }

    // The same convention as the iterative solvers (largest-magnitude entry positive), so results compare across solvers.
    private static Tensor WithSignConvention(Tensor columns)
    {
        if (columns.shape[1] == 0)
            return columns.clone();
        var pivot = columns.abs().argmax(0);
        var signs = columns.gather(0, pivot.unsqueeze(0)).sign();
        signs = where(signs == 0, ones_like(signs), signs);
        return columns * signs;
    }
}
