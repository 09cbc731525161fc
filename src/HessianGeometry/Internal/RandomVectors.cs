using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Internal;

/// <summary>
/// Seeded random vectors. They are drawn on the CPU from a generator seeded per call and then moved, so a seed gives
/// the same numbers on every device and in every process.
/// </summary>
internal static class RandomVectors
{
    /// <summary>A CPU generator for <paramref name="seed"/>.</summary>
    public static Generator CreateGenerator(long seed) => new((ulong)seed);

    /// <summary>Standard Gaussian entries, shape [p] or [p, k] when k is given.</summary>
    public static Tensor Gaussian(long p, long? k, Generator generator, ScalarType dtype, Device device)
    {
        var shape = k is { } cols ? new[] { p, cols } : new[] { p };
        var cpu = randn(shape, dtype: ScalarType.Float64, generator: generator);
        return Move(cpu, dtype, device);
    }

    /// <summary>Rademacher entries (±1 with equal probability), shape [p] or [p, k].</summary>
    public static Tensor Rademacher(long p, long? k, Generator generator, ScalarType dtype, Device device)
    {
        var shape = k is { } cols ? new[] { p, cols } : new[] { p };
        var bits = randint(0, 2, shape, dtype: ScalarType.Int64, generator: generator);
        var cpu = bits.to(ScalarType.Float64).TimesInPlace(2).AddInPlace(-1);
        return Move(cpu, dtype, device);
    }

    private static Tensor Move(Tensor cpu, ScalarType dtype, Device device)
    {
        var t = cpu.dtype == dtype ? cpu : cpu.to(dtype);
        return device.type == DeviceType.CPU ? t : t.to(device);
    }
}
