using static TorchSharp.torch;

namespace HessianGeometry.Interop;

/// <summary>
/// One tensor's header record in a safetensors file: its dtype, shape and byte range [DataBegin, DataEnd) relative to
/// the first byte after the JSON header. The reader has already checked that the range holds exactly
/// Π shape × element size bytes and lies inside the data region.
/// </summary>
/// <param name="Name">The tensor's key, e.g. <c>0.weight</c>.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The dimensions, outermost first (empty for a scalar).</param>
/// <param name="DataBegin">First byte of the tensor, relative to the start of the data region.</param>
/// <param name="DataEnd">One past the last byte, relative to the start of the data region.</param>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd)
{
    /// <summary>The number of elements, Π Shape (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (acc, d) => acc * d);

    /// <summary>DataEnd − DataBegin.</summary>
    public long ByteCount => DataEnd - DataBegin;

    /// <summary>Bytes per element.</summary>
    public int ElementSize => SafetensorsDTypes.ElementSize(DType);

    /// <summary>The TorchSharp dtype the tensor is loaded as (F16 → Float16, BF16 → BFloat16, BOOL → Bool, U8 → Byte).</summary>
    public ScalarType TorchDType => SafetensorsDTypes.ToTorch(DType);

    /// <summary>Records are equal when name, dtype, byte range and every dimension are.</summary>
    public bool Equals(SafetensorsEntry? other) =>
        other is not null && Name == other.Name && DType == other.DType && DataBegin == other.DataBegin && DataEnd == other.DataEnd
        && Shape.SequenceEqual(other.Shape);

    /// <summary>A hash of name, dtype, byte range and shape.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        hash.Add(DType);
        hash.Add(DataBegin);
        hash.Add(DataEnd);
        foreach (var d in Shape)
            hash.Add(d);
        return hash.ToHashCode();
    }
}
