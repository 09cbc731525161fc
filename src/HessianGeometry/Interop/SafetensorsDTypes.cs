using static TorchSharp.torch;

namespace HessianGeometry.Interop;

/// <summary>Maps safetensors dtypes to header strings, element sizes and TorchSharp dtypes.</summary>
internal static class SafetensorsDTypes
{
    public static readonly string SupportedList = string.Join(", ", Enum.GetNames<SafetensorsDType>());

    public static bool TryParse(string text, out SafetensorsDType dtype)
    {
        // Ordinal and case-sensitive: the specification spells the names in upper case.
        foreach (var candidate in Enum.GetValues<SafetensorsDType>())
        {
            if (string.Equals(candidate.ToString(), text, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    public static int ElementSize(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        _ => 1,
    };

    public static ScalarType ToTorch(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.I64 => ScalarType.Int64,
        SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.I16 => ScalarType.Int16,
        SafetensorsDType.I8 => ScalarType.Int8,
        SafetensorsDType.U8 => ScalarType.Byte,
        SafetensorsDType.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    public static bool TryFromTorch(ScalarType dtype, out SafetensorsDType result)
    {
        foreach (var candidate in Enum.GetValues<SafetensorsDType>())
        {
            if (ToTorch(candidate) == dtype)
            {
                result = candidate;
                return true;
            }
        }
        result = default;
        return false;
    }
}
