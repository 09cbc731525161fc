using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>An operator backed by an explicit p×p matrix (tests, exact Hessians of small models).</summary>
public sealed class DenseOperator : LinearOperator, IDisposable
{
    private readonly Tensor matrix;
    private readonly bool symmetric;

    /// <summary>Wraps a square matrix. The operator keeps its own reference; dispose the operator to free it.</summary>
    /// <param name="matrix">A floating-point tensor of shape [p, p].</param>
    /// <param name="symmetric">Declares A = Aᵀ; checked to a relative tolerance of 1e-6 (float32) or 1e-10 (float64).</param>
    public DenseOperator(Tensor matrix, bool symmetric = true)
    {
        TorchRuntime.EnsureLoaded();
        Guard.Valid(matrix, nameof(matrix));
        if (matrix.dim() != 2 || matrix.shape[0] != matrix.shape[1] || matrix.shape[0] == 0)
            throw new ArgumentException($"matrix must be square with at least one row but has shape {Guard.Shape(matrix)}.", nameof(matrix));
        if (!matrix.is_floating_point())
            throw new ArgumentException($"matrix must be floating point but has dtype {matrix.dtype}. Convert it with .to(ScalarType.Float64).", nameof(matrix));
        Guard.AllFinite(matrix, "matrix", "Remove NaN/Inf entries before wrapping it.");
        if (symmetric)
        {
            using var scope = NewDisposeScope();
            var tol = matrix.dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            var scale = Math.Max(matrix.abs().max().to(ScalarType.Float64).item<double>(), double.Epsilon);
            var asym = (matrix - matrix.T).abs().max().to(ScalarType.Float64).item<double>();
            if (asym > tol * scale)
                throw new ArgumentException($"matrix is declared symmetric but max|A − Aᵀ| = {asym:G3} exceeds {tol:G1}·max|A|. Symmetrise it with (A + Aᵀ)/2 or pass symmetric: false.", nameof(matrix));
        }
        this.matrix = matrix.detach().alias().DetachFromDisposeScope();
        this.symmetric = symmetric;
    }

    /// <summary>The wrapped matrix (not a copy).</summary>
    public Tensor Matrix => matrix;

    /// <inheritdoc />
    public override long Dimension => matrix.shape[0];

    /// <inheritdoc />
    public override ScalarType DType => matrix.dtype;

    /// <inheritdoc />
    public override Device Device => matrix.device;

    /// <inheritdoc />
    public override bool IsSymmetric => symmetric;

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector) => matrix.mv(vector);

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block) => matrix.mm(block);

    /// <inheritdoc />
    public void Dispose() => matrix.Dispose();
}
