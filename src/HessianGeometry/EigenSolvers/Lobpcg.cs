using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Block LOBPCG (Knyazev 2001, "Toward the optimal preconditioned eigensolver: locally optimal block preconditioned
/// conjugate gradient method", SIAM J. Sci. Comput. 23(2)). Each iteration applies the operator to the residual block
/// R = AX − XΘ (optionally preconditioned, R ← T(R)) and performs Rayleigh–Ritz on span[X, R, P], where P holds the
/// previous search directions; the b best Ritz vectors become the new X, their [R, P] components the new P.
/// </summary>
/// <remarks>
/// The basis [X, R, P] becomes nearly rank-deficient as the iteration converges. R and P are first projected against X,
/// then the whole basis is orthonormalised by SVQB (Stathopoulos &amp; Wu 2002): with G = SᵀS scaled to unit diagonal,
/// G = ZΩZᵀ, the coefficients D Z Ω^{-1/2} are kept only for ω &gt; 1e-10·max ω, so lost directions are dropped instead
/// of amplified. Converged columns are soft-locked (Knyazev et al. 2007): they stay in X and in the Rayleigh–Ritz
/// projection but their residuals are no longer applied, which saves their HVPs. AX and AP are carried as linear
/// combinations of actual products, so each iteration costs one block product of the active residuals only, and
/// the reported residuals come from those products. The initial block product always runs, even when it exceeds the budget.
/// LOBPCG optimises the Rayleigh quotient, so it reaches the algebraic ends; for the largest magnitude it solves both
/// ends (the first with half the budget) and keeps the k pairs of largest |λ|.
/// </remarks>
public sealed class Lobpcg : IEigenSolver
{
    private const double DropThreshold = 1e-10;

    /// <summary>Creates the solver.</summary>
    /// <param name="blockSize">
    /// b ≥ k, the number of vectors iterated. Extra "guard" vectors beyond k speed up the k-th pair when λ_k is close to
    /// λ_{k+1}, at the price of their HVPs. Null picks <see cref="DefaultBlockSize"/>.
    /// </param>
    public Lobpcg(int? blockSize = null)
    {
        if (blockSize is { } b)
            Guard.Positive(b, nameof(blockSize), "Pass a block size of at least k, or null for the default.");
        BlockSize = blockSize;
    }

    /// <summary>The block size asked for, or null for the default.</summary>
    public int? BlockSize { get; }

    /// <inheritdoc />
    public string Name => "lobpcg";

    /// <summary>The default block size: b = k (every HVP goes into a wanted pair), capped at p − 1.</summary>
    public static int DefaultBlockSize(int count, long dimension) => (int)Math.Min(count, dimension - 1);

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Implements IEigenSolver.Solve.")]
    public EigenResult Solve(ILinearOperator op, EigenSolverOptions options, CancellationToken cancellationToken = default,
        IProgress<EigenSolverProgress>? progress = null)
    {
        var run = EigenSolverRun.Begin(Name, op, options);
        var p = run.Dimension;
        var k = run.Count;
        var nb = BlockSize ?? DefaultBlockSize(k, p);
        Guard.InRange(nb, k, p - 1, "blockSize", $"The LOBPCG block must hold the k = {k} wanted vectors and be smaller than p = {p}.");
        using var scope = NewDisposeScope();

        if (run.Which != SpectrumEnd.LargestMagnitude)
        {
            var end = Iterate(run, run.Which, nb, options.MaxOperatorApplications, progress, cancellationToken);
            return run.Finish(end.Values, end.Vectors, end.Residuals, end.Scale, end.Iterations);
        }

        // LOBPCG minimises or maximises the Rayleigh quotient; it cannot aim at |λ|. The k largest |λ| are among the k
        // largest and the k smallest eigenvalues, so both ends are solved (half the budget first) and merged.
        var top = Iterate(run, SpectrumEnd.LargestAlgebraic, nb, (options.MaxOperatorApplications + 1) / 2, progress, cancellationToken);
        var bottom = Iterate(run, SpectrumEnd.SmallestAlgebraic, nb, options.MaxOperatorApplications, progress, cancellationToken);
        return run.Finish([.. top.Values, .. bottom.Values], cat([top.Vectors, bottom.Vectors], 1), [.. top.Residuals, .. bottom.Residuals],
            Math.Max(top.Scale, bottom.Scale), top.Iterations + bottom.Iterations);
    }

    /// <summary>The k wanted pairs found at one algebraic end.</summary>
    private sealed record EndResult(double[] Values, Tensor Vectors, double[] Residuals, double Scale, int Iterations);

    /// <summary>LOBPCG towards one algebraic end until the k wanted pairs converge or the run has used <paramref name="budget"/> applications.</summary>
    private static EndResult Iterate(EigenSolverRun run, SpectrumEnd which, int nb, long budget, IProgress<EigenSolverProgress>? progress,
        CancellationToken cancellationToken)
    {
        var op = run.Operator;
        var k = run.Count;
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();

        // Initial block: the user's vectors, padded with seeded Gaussian columns, orthonormalised.
        var start = run.StartBlock();
        var x0 = start is null ? run.RandomBlock(nb)
            : start.shape[1] >= nb ? start.narrow(1, 0, nb)
            : cat([start, run.RandomBlock(nb - start.shape[1])], 1);
        var x = linalg.qr(x0).Q;
        var ax = ApplyBlock(op, x);

        // Rayleigh–Ritz on X alone gives the first Ritz pairs.
        var (initialValues, initialVectors) = SmallSymmetricEigen.Decompose(EigenSolverRun.ToArray(x.T.mm(ax)));
        var order = EigenSolverRun.Select(initialValues, which, nb);
        var z = run.Columns(initialVectors, order);
        x = x.mm(z);
        ax = ax.mm(z);
        var theta = order.Select(i => initialValues[i]).ToArray();
        Tensor? directions = null, directionProducts = null;
        var iteration = 0;
        var scale = theta.Max(Math.Abs);
        double[] residualNorms;

        while (true)
        {
            using var iterationScope = NewDisposeScope();
            var residualBlock = ax - x * tensor(theta, dtype: ScalarType.Float64, device: run.Device).unsqueeze(0);
            residualNorms = residualBlock.norm(0, false).cpu().data<double>().ToArray();
            scale = Math.Max(scale, theta.Max(Math.Abs));
            var relative = theta.Select((v, i) => EigenSolverRun.Relative(residualNorms[i], v, scale)).ToArray();
            run.Report(progress, iteration, relative.Take(k).ToArray());
            if (run.AllConverged(relative, k))
                break;
            cancellationToken.ThrowIfCancellationRequested();
            // Soft locking: only unconverged columns (wanted or guard) get a new residual direction.
            var active = Enumerable.Range(0, nb).Where(i => !(relative[i] <= run.Tolerance)).ToArray();
            if (run.Used + active.Length > budget)
                break;
            iteration++;
            var activeIndex = tensor(active.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: run.Device);

            var r = residualBlock.index_select(1, activeIndex);
            if (run.Options.Preconditioner is { } precondition)
                r = Precondition(precondition, r);
            r = r - x.mm(x.T.mm(r));
            r = r - x.mm(x.T.mm(r));
            r = r / r.norm(0, true).clamp_min(double.Epsilon);
            var ar = ApplyBlock(op, r);

            Tensor basis, basisProducts;
            if (directions is not null && directionProducts is not null)
            {
                var pa = directions.index_select(1, activeIndex);
                var apa = directionProducts.index_select(1, activeIndex);
                var c = x.T.mm(pa);
                pa = pa - x.mm(c);
                apa = apa - ax.mm(c);
                basis = cat([x, r, pa], 1);
                basisProducts = cat([ax, ar, apa], 1);
            }
            else
            {
                basis = cat([x, r], 1);
                basisProducts = cat([ax, ar], 1);
            }

            var coefficients = Svqb(basis);
            var reduced = coefficients.T.mm(basis.T.mm(basisProducts)).mm(coefficients);
            var (ritzValues, ritzVectors) = SmallSymmetricEigen.Decompose(EigenSolverRun.ToArray(reduced));
            if (ritzValues.Length < nb)
                throw new InvalidOperationException($"LOBPCG lost the rank of its block ({ritzValues.Length} < {nb} independent directions). Use a smaller block or another seed.");
            var selected = EigenSolverRun.Select(ritzValues, which, nb);
            var w = coefficients.mm(run.Columns(ritzVectors, selected));
            var newX = basis.mm(w);
            var newAx = basisProducts.mm(w);
            // P: the part of the update that lies outside the old X (Knyazev's implicit search direction).
            var tail = w.narrow(0, nb, w.shape[0] - nb);
            var newDirections = basis.narrow(1, nb, basis.shape[1] - nb).mm(tail);
            var newDirectionProducts = basisProducts.narrow(1, nb, basis.shape[1] - nb).mm(tail);

            x = newX.MoveToOuterDisposeScope();
            ax = newAx.MoveToOuterDisposeScope();
            directions = newDirections.MoveToOuterDisposeScope();
            directionProducts = newDirectionProducts.MoveToOuterDisposeScope();
            theta = selected.Select(i => ritzValues[i]).ToArray();
        }

        var wanted = x.narrow(1, 0, k).MoveToOuterDisposeScope();
        return new EndResult(theta.Take(k).ToArray(), wanted, residualNorms.Take(k).ToArray(), scale, iteration);
    }

    /// <summary>
    /// SVQB coefficients C with (SC)ᵀ(SC) = I over the directions that survive: S is scaled to unit columns, its Gram
    /// matrix diagonalised, and eigen-directions with ω ≤ 1e-10·max ω dropped.
    /// </summary>
    private static Tensor Svqb(Tensor basis)
    {
        using var scope = NewDisposeScope();
        var columnNorms = basis.norm(0, false).clamp_min(double.Epsilon);
        var d = columnNorms.reciprocal();
        var gram = basis.T.mm(basis) * d.unsqueeze(0) * d.unsqueeze(1);
        var (omega, z) = SmallSymmetricEigen.Decompose(EigenSolverRun.ToArray(gram));
        var largest = omega.Max();
        var keep = Enumerable.Range(0, omega.Length).Where(i => omega[i] > DropThreshold * largest).ToArray();
        var zKeep = tensor(Flatten(z, keep), [z.GetLength(0), keep.Length], dtype: ScalarType.Float64).to(basis.device);
        var scaleKeep = tensor(keep.Select(i => 1 / Math.Sqrt(omega[i])).ToArray(), dtype: ScalarType.Float64, device: basis.device);
        return (d.unsqueeze(1) * zKeep * scaleKeep.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    private static double[] Flatten(double[,] matrix, int[] columns)
    {
        var rows = matrix.GetLength(0);
        var data = new double[rows * columns.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns.Length; c++)
                data[r * columns.Length + c] = matrix[r, columns[c]];
        }
        return data;
    }

    private static Tensor ApplyBlock(ILinearOperator op, Tensor block) =>
        op.ApplyBlock(block.to(op.DType).contiguous()).to(ScalarType.Float64);

    private static Tensor Precondition(Func<Tensor, Tensor> precondition, Tensor residuals)
    {
        var result = precondition(residuals);
        if (result is null || result.IsInvalid || !result.shape.SequenceEqual(residuals.shape))
            throw new ArgumentException($"options.Preconditioner must return a tensor of the residual block's shape {Guard.Shape(residuals)}. Return T(R) column by column.", nameof(precondition));
        var converted = result.to(ScalarType.Float64).to(residuals.device);
        if (!isfinite(converted).all().item<bool>())
            throw new ArithmeticException("options.Preconditioner returned NaN or Inf. Check the preconditioner.");
        return converted;
    }
}
