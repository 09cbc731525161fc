using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>A diagonal operator diag(d): spectrum known exactly, so solvers can be checked against the truth.</summary>
public sealed class DiagonalOperator : LinearOperator, IDisposable
{
    private readonly Tensor diagonal;

    /// <summary>Wraps the diagonal entries d (shape [p]).</summary>
    public DiagonalOperator(Tensor diagonal)
    {
        TorchRuntime.EnsureLoaded();
        Guard.Valid(diagonal, nameof(diagonal));
        if (diagonal.dim() != 1 || diagonal.shape[0] == 0 || !diagonal.is_floating_point())
            throw new ArgumentException($"diagonal must be a non-empty floating-point vector but has shape {Guard.Shape(diagonal)} and dtype {diagonal.dtype}.", nameof(diagonal));
        Guard.AllFinite(diagonal, "diagonal", "Remove NaN/Inf entries.");
        this.diagonal = diagonal.detach().alias().DetachFromDisposeScope();
    }

    /// <summary>The diagonal entries.</summary>
    public Tensor Diagonal => diagonal;

    /// <inheritdoc />
    public override long Dimension => diagonal.shape[0];

    /// <inheritdoc />
    public override ScalarType DType => diagonal.dtype;

    /// <inheritdoc />
    public override Device Device => diagonal.device;

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector) => diagonal * vector;

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block) => diagonal.unsqueeze(1) * block;

    /// <inheritdoc />
    public void Dispose() => diagonal.Dispose();
}
