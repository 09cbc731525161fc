using HessianGeometry.Interop;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// The data file as workers and client read it: the raw inputs and targets (stored dtypes), a shard's rows hashed as
/// stored, and the rows prepared for the analysis (inputs in the model's dtype, int32 labels widened to int64), the
/// same conversions on every machine so that the client's data and the workers' shards are the same numbers.
/// </summary>
internal sealed class ShardFile : IDisposable
{
    private ShardFile(Tensor x, Tensor y)
    {
        X = x;
        Y = y;
    }

    public Tensor X { get; }

    public Tensor Y { get; }

    public long Samples => X.shape[0];

    public static ShardFile Read(string path, string xKey, string yKey)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The data file '{path}' does not exist on this machine. Every worker and the client must be able to read the same file (a shared or copied path).", path);
        var file = SafetensorsFile.Read(path);
        foreach (var key in new[] { xKey, yKey })
        {
            if (!file.ContainsKey(key))
                throw new ArgumentException($"{path} has no tensor '{key}'. Tensors present: {string.Join(", ", file.Keys)}. Pass the right x/y keys.");
        }
        var x = file.LoadTensor(xKey).DetachFromDisposeScope();
        var y = file.LoadTensor(yKey).DetachFromDisposeScope();
        if (x.dim() < 2 || x.shape[0] == 0 || !(x.is_floating_point() || x.dtype is ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"'{xKey}' in {path} must be inputs [n, …] with n ≥ 1, floating point or int64/int32 token ids, but has shape [{string.Join(", ", x.shape)}] and dtype {x.dtype}.");
        if (y.dim() == 0 || y.shape[0] != x.shape[0])
            throw new ArgumentException($"'{yKey}' in {path} has shape [{string.Join(", ", y.shape)}] but '{xKey}' has {x.shape[0]} samples: one target per input.");
        return new ShardFile(x, y);
    }

    public string Hash(long start, long length) => StateHash.OfRows(X, Y, start, length);

    /// <summary>Rows [start, start + length) ready for the analysis, owned by the caller (outside any dispose scope).</summary>
    public (Tensor X, Tensor Y) Rows(long start, long length, ScalarType inputDType)
    {
        using var scope = NewDisposeScope();
        // Token ids index an embedding: they keep an integer dtype (int64, as the client's own loader gives them).
        var rows = X.narrow(0, start, length);
        var x = (rows.is_floating_point() ? rows.to(inputDType) : rows.to(ScalarType.Int64)).clone();
        var y = Y.narrow(0, start, length);
        y = y.dtype == ScalarType.Int32 ? y.to(ScalarType.Int64) : y.clone();
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }
}
