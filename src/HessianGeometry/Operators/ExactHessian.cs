using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// Materialises an operator as a dense p×p matrix: for the Hessian or GGN of an MLP from the network's structure
/// (<see cref="StructuralMlpHessian"/>), otherwise from block products A·[e_j … e_{j+b−1}], b columns at a time, so a
/// streamed Hessian runs each batch's forward and first backward once per block rather than once per column.
/// </summary>
public static class ExactHessian
{
    /// <summary>Default memory budget for the dense matrix: 2 GiB.</summary>
    public const long DefaultMemoryBudgetBytes = 2L << 30;

    /// <summary>Bytes needed to hold a p×p matrix of <paramref name="dtype"/>.</summary>
    public static double RequiredBytes(long dimension, ScalarType dtype) => (double)dimension * dimension * Guard.ElementSize(dtype);

    /// <summary>
    /// Computes the dense matrix of <paramref name="op"/> (shape [p, p], in <paramref name="dtype"/>): from the MLP's
    /// structure when the operator is a Hessian or GGN <see cref="CurvatureOperator"/> over an MLP
    /// (<see cref="StructuralMlpHessian"/>), otherwise from block products. <see cref="Build"/> also says which.
    /// </summary>
    /// <param name="op">The operator; its products run in its own dtype, then are converted.</param>
    /// <param name="dtype">Float32 or Float64 (default) for the returned matrix.</param>
    /// <param name="memoryBudgetBytes">Refuses matrices larger than this, naming the memory needed.</param>
    /// <param name="blockSize">Columns per block product.</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    public static Tensor Compute(ILinearOperator op, ScalarType dtype = ScalarType.Float64, long memoryBudgetBytes = DefaultMemoryBudgetBytes,
        int blockSize = 64, CancellationToken cancellationToken = default) =>
        Build(op, dtype, memoryBudgetBytes, blockSize, cancellationToken).Matrix;

    /// <summary>
    /// Materialises <paramref name="op"/> as a dense matrix and says how. With <see cref="ExactHessianBuild.Auto"/> a
    /// Hessian or GGN <see cref="CurvatureOperator"/> over an MLP the analytic engine reads is assembled from the
    /// network's structure (<see cref="StructuralMlpHessian"/>: blockwise matrix products over the samples, no
    /// Hessian-vector products), and kept only when it reproduces the operator's product with a seeded vector (relative
    /// difference ≤ 1e-9 in float64, 1e-4 when the operator or result is float32); everything else is built from p
    /// unit-vector products, <paramref name="blockSize"/> columns per block product.
    /// </summary>
    /// <param name="op">The operator; its products run in its own dtype, then are converted.</param>
    /// <param name="dtype">Float32 or Float64 (default) for the returned matrix.</param>
    /// <param name="memoryBudgetBytes">Refuses matrices larger than this, naming the memory needed.</param>
    /// <param name="blockSize">Columns per block product.</param>
    /// <param name="cancellationToken">Checked between blocks (block products) or product tiles (structural).</param>
    /// <param name="build">Auto (default), or force one build; <see cref="ExactHessianBuild.Structural"/> throws when impossible.</param>
    /// <param name="progress">Fraction done: of the columns (block products) or of the samples (structural).</param>
    /// <exception cref="InsufficientMemoryException">The matrix would exceed <paramref name="memoryBudgetBytes"/>.</exception>
    /// <exception cref="NotSupportedException"><see cref="ExactHessianBuild.Structural"/> was asked for an operator it cannot build.</exception>
    public static ExactMatrix Build(ILinearOperator op, ScalarType dtype = ScalarType.Float64, long memoryBudgetBytes = DefaultMemoryBudgetBytes,
        int blockSize = 64, CancellationToken cancellationToken = default, ExactHessianBuild build = ExactHessianBuild.Auto,
        IProgress<double>? progress = null)
    {
        Guard.NotNull(op, nameof(op));
        Guard.Positive(blockSize, nameof(blockSize));
        Guard.Positive(memoryBudgetBytes, nameof(memoryBudgetBytes));
        Guard.Defined(build, nameof(build));
        if (dtype != ScalarType.Float32 && dtype != ScalarType.Float64)
            throw new ArgumentException($"dtype must be Float32 or Float64 but was {dtype}.", nameof(dtype));
        var p = op.Dimension;
        var needed = RequiredBytes(p, dtype);
        if (needed > memoryBudgetBytes)
        {
            throw new InsufficientMemoryException(
                $"The exact {p}×{p} Hessian needs {Guard.Bytes(needed)} in {dtype}, over the budget of {Guard.Bytes(memoryBudgetBytes)}. " +
                "Use a matrix-free solver (Lanczos or LOBPCG) on the operator instead, select fewer parameters, or raise the memory budget.");
        }
        var why = "block products requested";
        if (build != ExactHessianBuild.BlockProducts)
        {
            var structural = StructuralExactHessian.TryBuild(op, dtype, cancellationToken, progress, out why);
            if (structural is not null)
                return structural;
            if (build == ExactHessianBuild.Structural)
                throw new NotSupportedException($"The structural exact build cannot materialise this operator: {why}. Use ExactHessianBuild.Auto or BlockProducts.");
        }
        var before = op.ApplicationCount;
        var matrix = FromBlockProducts(op, dtype, blockSize, cancellationToken, progress);
        return new ExactMatrix(matrix, ExactHessianBuild.BlockProducts, $"{p} unit-vector products, {blockSize} per block ({why})", op.ApplicationCount - before);
    }

    private static Tensor FromBlockProducts(ILinearOperator op, ScalarType dtype, int blockSize, CancellationToken cancellationToken, IProgress<double>? progress)
    {
        var p = op.Dimension;
        using var scope = NewDisposeScope();
        var result = empty(p, p, dtype: dtype, device: op.Device);
        for (long start = 0; start < p; start += blockSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var b = Math.Min(blockSize, p - start);
            var basis = zeros(p, b, dtype: op.DType, device: op.Device);
            basis.narrow(0, start, b).copy_(eye(b, dtype: op.DType, device: op.Device));
            var columns = op.ApplyBlock(basis);
            result.narrow(1, start, b).copy_(columns);
            progress?.Report((double)(start + b) / p);
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Materialises <paramref name="op"/> and wraps the matrix as a <see cref="DenseOperator"/>.</summary>
    public static DenseOperator Materialize(ILinearOperator op, ScalarType dtype = ScalarType.Float64, long memoryBudgetBytes = DefaultMemoryBudgetBytes,
        int blockSize = 64, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope();
        var matrix = Compute(op, dtype, memoryBudgetBytes, blockSize, cancellationToken);
        // Double backward is symmetric only up to rounding; the average removes that asymmetry without changing H.
        var symmetric = (matrix + matrix.T) / 2;
        return new DenseOperator(symmetric, op.IsSymmetric);
    }
}
