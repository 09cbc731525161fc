using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Internal;

/// <summary>
/// All argument checks live here so that every message has the same shape: what was wrong, then how to fix it.
/// Checks run before any call into libtorch because an error raised inside autograd or matmul aborts the process.
/// </summary>
internal static class Guard
{
    public static void NotNull(object? value, string name)
    {
        if (value is null)
            throw new ArgumentNullException(name, $"{name} is null. Pass a value.");
    }

    public static void Positive(long value, string name, string? fix = null)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive but was {value}. {fix ?? "Pass a value of at least 1."}");
    }

    public static void Positive(double value, string name, string? fix = null)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite positive number but was {value}. {fix ?? "Pass a value greater than 0."}");
    }

    public static void NonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite non-negative number but was {value}.");
    }

    public static void InRange(long value, long min, long max, string name, string? fix = null)
    {
        if (value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{min}, {max}] but was {value}. {fix ?? string.Empty}".TrimEnd());
    }

    public static void Finite(double value, string name, string? fix = null)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number but was {value}. {fix ?? "Pass a finite value."}");
    }

    /// <summary>A non-empty square floating-point matrix (shape [p, p]).</summary>
    public static void SquareMatrix(Tensor? tensor, string name)
    {
        Valid(tensor, name);
        if (tensor!.dim() != 2 || tensor.shape[0] != tensor.shape[1] || tensor.shape[0] == 0)
            throw new ArgumentException($"{name} must be a square matrix with at least one row but has shape {Shape(tensor)}. Pass the dense p×p matrix.", name);
        if (!tensor.is_floating_point())
            throw new ArgumentException($"{name} must be floating point but has dtype {tensor.dtype}. Convert it with .to(ScalarType.Float64).", name);
    }

    public static void Valid(Tensor? tensor, string name)
    {
        if (tensor is null)
            throw new ArgumentNullException(name, $"{name} is null. Pass a tensor.");
        if (tensor.IsInvalid)
            throw new ObjectDisposedException(name, $"{name} has been disposed (its native handle is empty). Keep the tensor alive while the analysis runs, e.g. call DetachFromDisposeScope() on it.");
    }

    /// <summary>A vector of length <paramref name="dimension"/> (shape [p]) in the operator's dtype and on its device.</summary>
    public static void Vector(Tensor tensor, long dimension, ScalarType dtype, Device device, string name)
    {
        Valid(tensor, name);
        if (tensor.dim() != 1 || tensor.shape[0] != dimension)
            throw new ArgumentException($"{name} must have shape [{dimension}] but has shape {Shape(tensor)}. Pass one flat vector with one entry per parameter (use ApplyBlock for several vectors).", name);
        SameDTypeAndDevice(tensor, dtype, device, name);
    }

    /// <summary>A block of vectors (shape [p, k], k ≥ 1) in the operator's dtype and on its device.</summary>
    public static void Block(Tensor tensor, long dimension, ScalarType dtype, Device device, string name)
    {
        Valid(tensor, name);
        if (tensor.dim() != 2 || tensor.shape[0] != dimension || tensor.shape[1] < 1)
            throw new ArgumentException($"{name} must have shape [{dimension}, k] with k ≥ 1 but has shape {Shape(tensor)}. Stack the vectors as columns.", name);
        SameDTypeAndDevice(tensor, dtype, device, name);
    }

    public static void SameDTypeAndDevice(Tensor tensor, ScalarType dtype, Device device, string name)
    {
        if (tensor.dtype != dtype)
            throw new ArgumentException($"{name} has dtype {tensor.dtype} but the operator works in {dtype}. Convert it with .to({dtype}).", name);
        if (!SameDevice(tensor.device, device))
            throw new ArgumentException($"{name} is on device {tensor.device} but the operator is on {device}. Move it with .to(operator.Device).", name);
    }

    public static bool SameDevice(Device a, Device b) =>
        a.type == b.type && (a.type == DeviceType.CPU || NormaliseIndex(a) == NormaliseIndex(b));

    private static long NormaliseIndex(Device d) => d.index < 0 ? 0 : d.index;

    public static void AllFinite(Tensor tensor, string what, string fix)
    {
        if (!tensor.is_floating_point() && !tensor.is_complex())
            return;
        using var scope = NewDisposeScope();
        if (!torch.isfinite(tensor).all().item<bool>())
            throw new ArithmeticException($"{what} contains NaN or Inf. {fix}");
    }

    public static void Defined<TEnum>(TEnum value, string name) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be one of {string.Join(", ", Enum.GetNames<TEnum>())} but was {value}.");
    }

    /// <summary>
    /// Eigen-solver start vectors: shape [p] or [p, k], floating point, finite, and of full column rank
    /// (σ_min &gt; 1e-10·σ_max), because a rank-deficient start block cannot span k directions.
    /// </summary>
    public static void StartVectors(Tensor? vectors, long dimension, int count, string name)
    {
        if (vectors is null)
            return;
        Valid(vectors, name);
        var shapeOk = (vectors.dim() == 1 && vectors.shape[0] == dimension)
            || (vectors.dim() == 2 && vectors.shape[0] == dimension && vectors.shape[1] == count);
        if (!shapeOk)
            throw new ArgumentException($"{name} must have shape [{dimension}] or [{dimension}, {count}] but has shape {Shape(vectors)}. Pass one vector, or one column per wanted eigenpair.", name);
        if (!vectors.is_floating_point())
            throw new ArgumentException($"{name} must be floating point but has dtype {vectors.dtype}. Convert it with .to(ScalarType.Float64).", name);
        using var scope = NewDisposeScope();
        var block = vectors.detach().to(ScalarType.Float64).cpu().reshape(dimension, -1);
        if (!torch.isfinite(block).all().item<bool>())
            throw new ArgumentException($"{name} contains NaN or Inf. Pass finite start vectors (or none).", name);
        var gramEigenvalues = torch.linalg.eigvalsh(block.T.mm(block));
        var largest = gramEigenvalues.max().item<double>();
        var smallest = gramEigenvalues.min().item<double>();
        if (!(largest > 0) || smallest <= 1e-20 * largest)
            throw new ArgumentException($"{name} is rank-deficient (σ_min/σ_max = {Math.Sqrt(Math.Max(smallest, 0) / Math.Max(largest, double.Epsilon)):G3}): its columns do not span {block.shape[1]} directions. Pass linearly independent, non-zero start vectors (or none).", name);
    }

    /// <summary>
    /// Refuses to allocate <paramref name="neededBytes"/> when it exceeds the budget: <paramref name="budgetBytes"/> when
    /// given, otherwise (on the CPU) the memory the process may use, so that an over-large request fails with a message
    /// instead of the operating system killing the process part-way through an analysis.
    /// </summary>
    public static void FitsInMemory(double neededBytes, long? budgetBytes, Device device, string what, string fix)
    {
        if (budgetBytes is { } given)
            Positive(given, "memoryBudgetBytes", "Pass a budget in bytes, or null for the memory available.");
        var budget = budgetBytes ?? (device.type == DeviceType.CPU ? AvailableMemoryBytes() : null);
        if (budget is { } b && neededBytes > b)
        {
            var source = budgetBytes is null ? "the memory available to this process" : "the memory budget";
            throw new InsufficientMemoryException($"{what} needs {Bytes(neededBytes)}, more than {source} ({Bytes(b)}). {fix}");
        }
    }

    /// <summary>Physical memory, or the container/GC hard limit when lower; null when the runtime does not know it.</summary>
    private static long? AvailableMemoryBytes()
    {
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? available : null;
    }

    public static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";

    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var u = 0;
        while (bytes >= 1024 && u < units.Length - 1)
        {
            bytes /= 1024;
            u++;
        }
        return $"{bytes:0.##} {units[u]}";
    }

    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.ComplexFloat64 => 16,
        _ => 1,
    };
}
