using HessianGeometry.Internal;

namespace HessianGeometry;

/// <summary>Process-wide runtime checks and settings: the TorchSharp load check and the convolution-backend opt-outs.</summary>
public static class HessianGeometryRuntime
{
    private static volatile bool useOneDnn;
    private static volatile bool useNnpack;

    /// <summary>
    /// Loads TorchSharp's native library now and throws <see cref="TorchSharpLoadException"/> naming the real cause if it
    /// cannot (a missing backend package, or on Debian 12 / Ubuntu 22.04 a <c>libLibTorchSharp.so</c> that needs
    /// GLIBCXX_3.4.32 and was not patched). Call it as the first statement of <c>Main</c>, before any TorchSharp call:
    /// TorchSharp's own first call fails with a misleading message, and this check cannot run before code that does not
    /// touch HessianGeometry. Cheap after the first call; thread-safe. On AMD Linux x64 hosts calling it first also lets
    /// libtorch's MKL choose its optimised kernels (about 1.6× faster dense eigen-decompositions; docs/solvers.md, "Which
    /// decomposition"): MKL makes that choice at its first call, for example the first matrix product of training.
    /// </summary>
    /// <exception cref="TorchSharpLoadException">The native library cannot be loaded; the message says why and how to fix it.</exception>
    public static void EnsureLoaded() => TorchRuntime.EnsureLoaded();

    /// <summary>
    /// When true, <see cref="ConvolutionBackendScope"/> leaves libtorch's oneDNN setting as it is, so convolutions may use
    /// oneDNN's faster kernels. Default false, because on some CPUs oneDNN gives intermittent NaN/Inf gradients in
    /// residual networks (docs/convolutions.md). Read when the outermost scope is entered.
    /// </summary>
    public static bool UseOneDnn
    {
        get => useOneDnn;
        set => useOneDnn = value;
    }

    /// <summary>
    /// When true, <see cref="ConvolutionBackendScope"/> leaves libtorch's NNPACK setting as it is. Default false: on CPUs
    /// NNPACK does not support it logs one stderr line per convolution. Read when the outermost scope is entered.
    /// </summary>
    public static bool UseNnpack
    {
        get => useNnpack;
        set => useNnpack = value;
    }
}
