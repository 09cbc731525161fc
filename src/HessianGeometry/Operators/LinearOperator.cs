using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// Base class in the style of scipy's <c>LinearOperator</c>: the public methods validate shape, dtype and device once
/// and check the result for NaN/Inf; implementations override <see cref="ApplyCore"/> (and, when a batched product is
/// cheaper, <see cref="ApplyBlockCore"/>). Each call runs in its own dispose scope.
/// </summary>
public abstract class LinearOperator : ILinearOperator
{
    private long applicationCount;
    private bool? checkFiniteProducts;

    /// <inheritdoc />
    public abstract long Dimension { get; }

    /// <inheritdoc />
    public abstract ScalarType DType { get; }

    /// <inheritdoc />
    public abstract Device Device { get; }

    /// <inheritdoc />
    public virtual bool IsSymmetric => true;

    /// <inheritdoc />
    public long ApplicationCount => Interlocked.Read(ref applicationCount);

    /// <summary>
    /// Whether every product is checked for NaN/Inf, which reads one number back to the host per product. Default: on
    /// for operators on the CPU, where that read costs no device synchronisation; off on an accelerator, where it would
    /// stall the queue once per product. Set it to true to have a non-finite product located and explained there too.
    /// </summary>
    public bool CheckFiniteProducts
    {
        get => checkFiniteProducts ?? Device.type == TorchSharp.DeviceType.CPU;
        set => checkFiniteProducts = value;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor vector)
    {
        Guard.Vector(vector, Dimension, DType, Device, nameof(vector));
        using var scope = NewDisposeScope();
        var result = ApplyCore(vector);
        Interlocked.Increment(ref applicationCount);
        CheckFinite(vector, result, 1);
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor ApplyBlock(Tensor block)
    {
        Guard.Block(block, Dimension, DType, Device, nameof(block));
        using var scope = NewDisposeScope();
        var result = ApplyBlockCore(block);
        Interlocked.Add(ref applicationCount, block.shape[1]);
        CheckFinite(block, result, block.shape[1]);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Computes A·v for a validated vector of shape [p]. Called inside a dispose scope.</summary>
    protected abstract Tensor ApplyCore(Tensor vector);

    /// <summary>Computes A·V for a validated block [p, k]; by default one <see cref="ApplyCore"/> per column.</summary>
    protected virtual Tensor ApplyBlockCore(Tensor block)
    {
        var k = block.shape[1];
        var columns = new Tensor[k];
        for (var j = 0; j < k; j++)
            columns[j] = ApplyCore(block[.., j].contiguous());
        return stack(columns, 1);
    }

    /// <summary>
    /// The exception thrown when a product contains NaN or Inf. Operators that know where their products come from
    /// override it to say which part failed (the loss-Hessian operator names the batch); the default names the call.
    /// </summary>
    /// <param name="input">The vector [p] or block [p, k] whose product was not finite (still alive during the call).</param>
    /// <param name="vectors">k, the number of vectors in the product.</param>
    protected virtual ArithmeticException NonFiniteProduct(Tensor input, long vectors) => new(
        $"{GetType().Name} produced NaN or Inf for a product with {vectors} vector(s) (operator application #{ApplicationCount}). " +
        "Check the model's parameters and data for NaN/Inf, or analyse in float64 if float32 overflows.");

    private void CheckFinite(Tensor input, Tensor result, long vectors)
    {
        if (!CheckFiniteProducts)
            return;
        // One float64 reduction instead of isfinite + all (two kernels and a p-sized bool tensor): NaN and ±Inf propagate
        // into the sum, and accumulating in float64 keeps a finite float32 result from overflowing it. Only a non-finite
        // sum runs the elementwise check, so the verdict is exactly "some entry is NaN or Inf".
        if (result.is_floating_point() && double.IsFinite(result.sum(ScalarType.Float64).item<double>()))
            return;
        if (!isfinite(result).all().item<bool>())
            throw NonFiniteProduct(input, vectors);
    }
}
