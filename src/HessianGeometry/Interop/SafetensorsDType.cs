namespace HessianGeometry.Interop;

/// <summary>
/// The element types of the safetensors format that this library reads and writes; the name of each member is the
/// string stored in the header's <c>"dtype"</c> field. Every type is stored little-endian, row-major.
/// </summary>
public enum SafetensorsDType
{
    /// <summary>IEEE 754 binary64 (8 bytes) — TorchSharp Float64.</summary>
    F64,

    /// <summary>IEEE 754 binary32 (4 bytes) — TorchSharp Float32.</summary>
    F32,

    /// <summary>IEEE 754 binary16 (2 bytes) — TorchSharp Float16.</summary>
    F16,

    /// <summary>bfloat16: the upper 16 bits of a binary32 (2 bytes) — TorchSharp BFloat16.</summary>
    BF16,

    /// <summary>Signed 64-bit integer — TorchSharp Int64.</summary>
    I64,

    /// <summary>Signed 32-bit integer — TorchSharp Int32.</summary>
    I32,

    /// <summary>Signed 16-bit integer — TorchSharp Int16.</summary>
    I16,

    /// <summary>Signed 8-bit integer — TorchSharp Int8.</summary>
    I8,

    /// <summary>Unsigned 8-bit integer — TorchSharp Byte.</summary>
    U8,

    /// <summary>Boolean stored as one byte, 0 or 1 (header string <c>"BOOL"</c>) — TorchSharp Bool.</summary>
    BOOL,
}
