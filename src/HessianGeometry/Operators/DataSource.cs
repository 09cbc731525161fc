using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The dataset a Hessian is taken over: in-memory tensors split into mini-batches, or any re-enumerable sequence of
/// (inputs, targets) batches. Uneven batch sizes are fine: the loss is always the sample-weighted mean.
/// </summary>
public sealed class DataSource
{
    private readonly Func<IEnumerable<(Tensor Inputs, Tensor Targets)>> batches;

    private DataSource(Tensor? inputs, Tensor? targets, long? count, int? batchSize, Func<IEnumerable<(Tensor, Tensor)>> batches)
    {
        Inputs = inputs;
        Targets = targets;
        Count = count;
        BatchSize = batchSize;
        this.batches = batches;
    }

    /// <summary>All inputs (shape [n, ...]) when the data is held in memory; otherwise null.</summary>
    public Tensor? Inputs { get; }

    /// <summary>All targets (shape [n] for class indices, [n, C] for regression) when held in memory; otherwise null.</summary>
    public Tensor? Targets { get; }

    /// <summary>n, when known (always for in-memory data).</summary>
    public long? Count { get; }

    /// <summary>The mini-batch size for in-memory data (n when the data is one batch).</summary>
    public int? BatchSize { get; }

    /// <summary>True when every pass sees exactly one batch, so a first-order graph can be cached across HVPs.</summary>
    public bool IsSingleBatch => Inputs is not null && BatchSize is { } b && b >= Count;

    /// <summary>In-memory data, split into batches of <paramref name="batchSize"/> rows (default: one batch).</summary>
    public static DataSource FromTensors(Tensor inputs, Tensor targets, int? batchSize = null)
    {
        TorchRuntime.EnsureLoaded();
        Guard.Valid(inputs, nameof(inputs));
        Guard.Valid(targets, nameof(targets));
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
            throw new ArgumentException($"inputs is empty (shape {Guard.Shape(inputs)}). Pass at least one sample, rows first.", nameof(inputs));
        if (targets.dim() == 0 || targets.shape[0] != inputs.shape[0])
            throw new ArgumentException($"targets has shape {Guard.Shape(targets)} but inputs has {inputs.shape[0]} rows. Pass one target per input row.", nameof(targets));
        if (batchSize is { } bs && bs <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), bs, $"batchSize must be positive but was {bs}. Pass a value of at least 1, or null for one batch.");
        Guard.AllFinite(inputs, "inputs", "Clean or impute the data before the analysis.");
        Guard.AllFinite(targets, "targets", "Clean the targets before the analysis.");
        var n = inputs.shape[0];
        var size = (int)Math.Min(batchSize ?? n, n);
        // detach() already gives a new handle on the same storage; the source owns it for its lifetime.
        var x = inputs.detach().DetachFromDisposeScope();
        var y = targets.detach().DetachFromDisposeScope();
        return new DataSource(x, y, n, size, () => Split(x, y, size));
    }

    /// <summary>
    /// A re-enumerable sequence of batches (enumerated once per Hessian-vector product). The caller owns the tensors.
    /// </summary>
    public static DataSource FromBatches(IEnumerable<(Tensor Inputs, Tensor Targets)> batches)
    {
        TorchRuntime.EnsureLoaded();
        Guard.NotNull(batches, nameof(batches));
        return new DataSource(null, null, null, null, () => batches);
    }

    /// <summary>Enumerates the batches. In-memory batches are views that need no disposal by the caller.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Batches()
    {
        var index = 0;
        foreach (var (x, y) in batches())
        {
            Guard.Valid(x, $"inputs of batch {index}");
            Guard.Valid(y, $"targets of batch {index}");
            if (x.dim() == 0 || x.shape[0] == 0)
                throw new ArgumentException($"Batch {index} is empty. Drop empty batches from the sequence.");
            if (y.dim() == 0 || y.shape[0] != x.shape[0])
                throw new ArgumentException($"Batch {index} has {x.shape[0]} inputs but targets of shape {Guard.Shape(y)}. Pass one target per input row.");
            yield return (x, y);
            index++;
        }
        if (index == 0)
            throw new ArgumentException("The data source produced no batches. Pass at least one non-empty batch.");
    }

    private static IEnumerable<(Tensor, Tensor)> Split(Tensor x, Tensor y, int size)
    {
        var n = x.shape[0];
        for (long start = 0; start < n; start += size)
        {
            var len = Math.Min(size, n - start);
            yield return (x.narrow(0, start, len), y.narrow(0, start, len));
        }
    }
}
