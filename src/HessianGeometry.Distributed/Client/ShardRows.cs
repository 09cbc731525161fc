using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Client;

/// <summary>One shard's answer to a geometry request: raw values of <paramref name="DType"/> with <paramref name="Shape"/>, and a note (why a quantity could not be computed).</summary>
internal sealed record ShardRows(byte[] Bytes, long[] Shape, ScalarType DType, string? Note = null)
{
    /// <summary>The rows as a tensor (CPU).</summary>
    public Tensor ToTensor()
    {
        var t = empty(Shape, dtype: DType);
        if (Bytes.Length != t.numel() * t.ElementSize)
            throw new InvalidOperationException($"A worker returned {Bytes.Length} bytes for {string.Join('×', Shape)} {DType} values.");
        if (Bytes.Length > 0)
            t.bytes = Bytes;
        return t;
    }
}
