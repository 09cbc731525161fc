using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed;

/// <summary>Vectors and blocks on the wire: raw little-endian float64 or float32 values, k rows of p.</summary>
internal static class Payload
{
    public static byte[] ToBytes(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().contiguous().bytes.ToArray();
    }

    /// <summary>A [rows, columns] tensor from raw values (rows = k vectors, columns = p).</summary>
    public static Tensor FromBytes(byte[] bytes, ScalarType dtype, long rows, long columns)
    {
        var size = dtype == ScalarType.Float64 ? 8 : 4;
        if (bytes.LongLength != rows * columns * size)
            throw new InvalidOperationException($"A payload of {bytes.LongLength} bytes cannot hold {rows}×{columns} {dtype} values ({rows * columns * size} bytes).");
        var t = empty(rows, columns, dtype: dtype);
        if (bytes.Length > 0)
            t.bytes = bytes;
        return t;
    }

    /// <summary>
    /// A float64 tensor of <paramref name="shape"/> holding a copy of <paramref name="values"/> in storage that libtorch
    /// allocated. <c>tensor(double[])</c> would keep the managed array as the tensor's storage, whose address modulo 64
    /// changes with every allocation; MKL's reductions (<c>ddot</c> in Lanczos' α = wᵀq) take a different path at a
    /// different alignment, which changed the last bit of the density between two same-seed runs.
    /// </summary>
    public static Tensor ToTensor(double[] values, params long[] shape)
    {
        var t = empty(shape, dtype: ScalarType.Float64);
        if (values.Length > 0)
            t.bytes = MemoryMarshal.AsBytes(values.AsSpan());
        return t;
    }

    /// <summary>Adds weight · values(bytes) to <paramref name="sum"/> in float64, in index order.</summary>
    public static void AddScaled(double[] sum, byte[] bytes, bool float64, double weight)
    {
        if (float64)
        {
            var values = MemoryMarshal.Cast<byte, double>(bytes);
            if (values.Length != sum.Length)
                throw new InvalidOperationException($"A worker returned {values.Length} values for a product of {sum.Length}.");
            for (var i = 0; i < sum.Length; i++)
                sum[i] += weight * values[i];
        }
        else
        {
            var values = MemoryMarshal.Cast<byte, float>(bytes);
            if (values.Length != sum.Length)
                throw new InvalidOperationException($"A worker returned {values.Length} values for a product of {sum.Length}.");
            for (var i = 0; i < sum.Length; i++)
                sum[i] += weight * values[i];
        }
    }
}
