using System.Diagnostics;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// The bookkeeping every eigen-solver shares: option checks, the HVP budget, start vectors, the residual measure, the
/// ordering of pairs, and the assembly of the <see cref="EigenResult"/>. Keeping it in one place makes the three solvers
/// report exactly the same quantities.
/// </summary>
internal sealed class EigenSolverRun
{
    /// <summary>|λ| at or below this fraction of the largest |λ| seen counts as zero: the residual is then absolute.</summary>
    public const double ZeroEigenvalueRatio = 1e-8;

    private readonly Stopwatch stopwatch = Stopwatch.StartNew();
    private readonly long startCount;

    private EigenSolverRun(string solver, ILinearOperator op, EigenSolverOptions options)
    {
        Solver = solver;
        Operator = op;
        Options = options;
        startCount = op.ApplicationCount;
        Dimension = op.Dimension;
        Count = options.Count;
        Generator = RandomVectors.CreateGenerator(options.Seed);
    }

    public string Solver { get; }

    public ILinearOperator Operator { get; }

    public EigenSolverOptions Options { get; }

    public long Dimension { get; }

    /// <summary>k.</summary>
    public int Count { get; }

    public SpectrumEnd Which => Options.Which;

    public double Tolerance => Options.Tolerance;

    public Generator Generator { get; }

    public Device Device => Operator.Device;

    /// <summary>HVPs spent so far in this solve.</summary>
    public long Used => Operator.ApplicationCount - startCount;

    /// <summary>HVPs left in the budget.</summary>
    public long Remaining => Options.MaxOperatorApplications - Used;

    /// <summary>Checks the operator and options (before any call into libtorch) and starts the clock.</summary>
    public static EigenSolverRun Begin(string solver, ILinearOperator op, EigenSolverOptions options)
    {
        Guard.NotNull(op, nameof(op));
        Guard.NotNull(options, nameof(options));
        TorchRuntime.EnsureLoaded();
        if (!op.IsSymmetric)
            throw new ArgumentException($"The {solver} eigen-solver needs a symmetric operator but {op.GetType().Name} reports IsSymmetric = false. Symmetrise it, e.g. (A + Aᵀ)/2.", nameof(op));
        var p = op.Dimension;
        if (p < 2)
            throw new ArgumentException($"The operator has dimension {p}; an iterative eigen-solver needs p ≥ 2. Use the exact Hessian (ExactHessian.Compute) and torch.linalg.eigh.", nameof(op));
        Guard.InRange(options.Count, 1, p - 1, "options.Count",
            $"An iterative solver finds k < p pairs; for k ≥ p = {p} compute the exact Hessian (ExactHessian.Compute) and use torch.linalg.eigh.");
        Guard.Defined(options.Which, "options.Which");
        Guard.Positive(options.Tolerance, "options.Tolerance", "Pass a relative residual tolerance such as 1e-6.");
        Guard.Positive(options.MaxOperatorApplications, "options.MaxOperatorApplications", "Pass a budget of at least 1 operator application.");
        if (options.MemoryBudgetBytes is { } budget)
            Guard.Positive(budget, "options.MemoryBudgetBytes", "Pass a budget in bytes, or null for the memory available.");
        Guard.StartVectors(options.StartVectors, p, options.Count, "options.StartVectors");
        return new EigenSolverRun(solver, op, options);
    }

    /// <summary>The user's start vectors as float64 [p, c] on the operator's device, or null.</summary>
    public Tensor? StartBlock() =>
        Options.StartVectors is { } v ? v.detach().to(ScalarType.Float64).to(Device).reshape(Dimension, -1).clone() : null;

    /// <summary>Gaussian float64 vectors [p, c] from the run's seeded generator.</summary>
    public Tensor RandomBlock(long columns) => RandomVectors.Gaussian(Dimension, columns, Generator, ScalarType.Float64, Device);

    /// <summary>‖r‖/|λ|, or ‖r‖ when |λ| ≤ <see cref="ZeroEigenvalueRatio"/>·<paramref name="scale"/> (λ ≈ 0).</summary>
    public static double Relative(double residual, double eigenvalue, double scale)
    {
        var magnitude = Math.Abs(eigenvalue);
        return magnitude > ZeroEigenvalueRatio * scale && magnitude > 0 ? residual / magnitude : residual;
    }

    /// <summary>Indices of the <paramref name="count"/> values wanted at <paramref name="which"/>, in the order the result lists them.</summary>
    public static int[] Select(IReadOnlyList<double> values, SpectrumEnd which, int count)
    {
        var indices = Enumerable.Range(0, values.Count);
        var ordered = which switch
        {
            SpectrumEnd.LargestAlgebraic => indices.OrderByDescending(i => values[i]),
            SpectrumEnd.SmallestAlgebraic => indices.OrderBy(i => values[i]),
            _ => indices.OrderByDescending(i => Math.Abs(values[i])),
        };
        return ordered.ThenBy(i => i).Take(count).ToArray();
    }

    /// <summary>Whether every one of the first <paramref name="count"/> relative residuals is within the tolerance.</summary>
    public bool AllConverged(IReadOnlyList<double> relative, int count)
    {
        if (relative.Count < count)
            return false;
        for (var i = 0; i < count; i++)
        {
            if (!(relative[i] <= Tolerance))
                return false;
        }
        return true;
    }

    public void Report(IProgress<EigenSolverProgress>? progress, int iteration, IReadOnlyList<double> relative)
    {
        if (progress is null)
            return;
        var converged = relative.Count(r => r <= Tolerance);
        var worst = relative.Count == 0 ? double.PositiveInfinity : relative.Max();
        progress.Report(new EigenSolverProgress(Solver, iteration, Used, converged, worst));
    }

    /// <summary>
    /// Orders the pairs as asked, fixes each eigenvector's sign (largest-magnitude entry positive) so results are
    /// comparable across solvers, and builds the result. <paramref name="vectors"/> is float64 [p, c].
    /// </summary>
    public EigenResult Finish(double[] eigenvalues, Tensor vectors, double[] residualNorms, double scale, int iterations)
    {
        // At most k pairs: LOBPCG's largest-magnitude solve hands in both ends and keeps the k of largest |λ|.
        var order = Select(eigenvalues, Which, Math.Min(Count, eigenvalues.Length));
        var values = order.Select(i => eigenvalues[i]).ToArray();
        var residuals = order.Select(i => residualNorms[i]).ToArray();
        var relative = values.Select((v, i) => Relative(residuals[i], v, scale)).ToArray();
        var converged = relative.Select(r => r <= Tolerance).ToArray();
        Tensor ordered;
        if (order.Length == 0)
        {
            ordered = zeros(Dimension, 0, dtype: ScalarType.Float64, device: Device);
        }
        else
        {
            ordered = vectors.index_select(1, tensor(order.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: Device));
            var pivot = ordered.abs().argmax(0);
            var signs = ordered.gather(0, pivot.unsqueeze(0)).sign();
            signs = where(signs == 0, ones_like(signs), signs);
            ordered = ordered * signs;
        }
        stopwatch.Stop();
        return new EigenResult(Solver, Which, values, ordered.contiguous().MoveToOuterDisposeScope(), residuals, relative, converged, iterations, Used, stopwatch.Elapsed)
        {
            Requested = Count,
        };
    }

    /// <summary>Copies a small float64 tensor to a row-major array.</summary>
    public static double[,] ToArray(Tensor matrix)
    {
        var rows = (int)matrix.shape[0];
        var cols = (int)matrix.shape[1];
        var flat = matrix.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var result = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    /// <summary>Columns <paramref name="columns"/> of a row-major array as a float64 tensor on the run's device.</summary>
    public Tensor Columns(double[,] matrix, IReadOnlyList<int> columns)
    {
        var rows = matrix.GetLength(0);
        var data = new double[rows * columns.Count];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns.Count; c++)
                data[r * columns.Count + c] = matrix[r, columns[c]];
        }
        return tensor(data, [rows, columns.Count], dtype: ScalarType.Float64).to(Device);
    }
}
