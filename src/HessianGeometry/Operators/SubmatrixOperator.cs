using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The principal submatrix P A Pᵀ of an operator A ∈ ℝ^{p×p} on a set of coordinates (curvlinops'
/// <c>SubmatrixLinearOperator</c> with equal row and column indices): P ∈ ℝ^{m×p} selects the coordinates, so a
/// product embeds u ∈ ℝ^m into a zero vector of ℝ^p, applies A once and reads the same coordinates back. For a
/// <see cref="ParameterGroup"/> this is the diagonal block H_ll of a layer, an operator of the block's dimension that
/// every eigen-solver and estimator accepts. Each product costs one product of A (a block of k vectors, k of them):
/// the zero padding saves nothing inside A, because (A x)_l mixes every block of x.
/// </summary>
public sealed class SubmatrixOperator : LinearOperator
{
    private readonly ILinearOperator inner;
    private readonly (long Start, long Length)[] ranges;

    /// <summary>Wraps <paramref name="op"/> restricted to the coordinate <paramref name="ranges"/>.</summary>
    /// <param name="op">The full operator A.</param>
    /// <param name="ranges">Ascending, disjoint, non-empty ranges [Start, Start + Length) inside [0, p).</param>
    public SubmatrixOperator(ILinearOperator op, IReadOnlyList<(long Start, long Length)> ranges)
    {
        Guard.NotNull(op, nameof(op));
        Guard.NotNull(ranges, nameof(ranges));
        if (ranges.Count == 0)
            throw new ArgumentException("ranges is empty: a submatrix needs at least one coordinate. Pass the ranges of a parameter group.", nameof(ranges));
        long end = 0;
        foreach (var (start, length) in ranges)
        {
            if (length <= 0 || start < end || start + length > op.Dimension)
                throw new ArgumentException($"Coordinate ranges must be non-empty, ascending, disjoint and inside [0, {op.Dimension}) but got [{start}, {start + length}) after {end}. Pass the ranges of a ParameterGroup of this operator's parameter space.", nameof(ranges));
            end = start + length;
        }
        inner = op;
        this.ranges = ranges.ToArray();
        Dimension = this.ranges.Sum(r => r.Length);
    }

    /// <summary>The block of <paramref name="op"/> on the coordinates of <paramref name="group"/>.</summary>
    public SubmatrixOperator(ILinearOperator op, ParameterGroup group)
        : this(op, (group ?? throw new ArgumentNullException(nameof(group), "group is null. Pass a parameter group.")).Ranges)
    {
    }

    /// <summary>The full operator A.</summary>
    public ILinearOperator Inner => inner;

    /// <inheritdoc />
    public override long Dimension { get; }

    /// <inheritdoc />
    public override ScalarType DType => inner.DType;

    /// <inheritdoc />
    public override Device Device => inner.Device;

    /// <inheritdoc />
    public override bool IsSymmetric => inner.IsSymmetric;

    /// <summary>The rows of <paramref name="full"/> (shape [p] or [p, k]) on the block's coordinates, as a new tensor [m] or [m, k].</summary>
    public Tensor Restrict(Tensor full)
    {
        Guard.Valid(full, nameof(full));
        if (ranges.Length == 1)
            return full.narrow(0, ranges[0].Start, ranges[0].Length).contiguous();
        return cat(ranges.Select(r => full.narrow(0, r.Start, r.Length)).ToList(), 0);
    }

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector) => Restrict(inner.Apply(Embed(vector, null)));

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block) => Restrict(inner.ApplyBlock(Embed(block, block.shape[1])));

    private Tensor Embed(Tensor local, long? columns)
    {
        var full = columns is { } k
            ? zeros(inner.Dimension, k, dtype: DType, device: Device)
            : zeros(inner.Dimension, dtype: DType, device: Device);
        long offset = 0;
        foreach (var (start, length) in ranges)
        {
            full.narrow(0, start, length).copy_(local.narrow(0, offset, length));
            offset += length;
        }
        return full;
    }
}
