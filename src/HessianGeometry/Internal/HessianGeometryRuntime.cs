using HessianGeometry.Internal;

namespace HessianGeometry;

/// <summary>Process-wide runtime checks and settings: the TorchSharp load check, the convolution-backend opt-outs and the native-heap setting.</summary>
public static class HessianGeometryRuntime
{
    private static volatile bool useOneDnn;
    private static volatile bool useNnpack;
    private static volatile bool tuneNativeHeap = true;

    /// <summary>
    /// Loads TorchSharp's native library now and throws <see cref="TorchSharpLoadException"/> naming the real cause if it
    /// cannot (a missing backend package, or on Debian 12 / Ubuntu 22.04 a <c>libLibTorchSharp.so</c> that needs
    /// GLIBCXX_3.4.32 and was not patched). Call it as the first statement of <c>Main</c>, before any TorchSharp call:
    /// TorchSharp's own first call fails with a misleading message, and this check cannot run before code that does not
    /// touch HessianGeometry. Cheap after the first call; thread-safe.
    /// </summary>
    /// <exception cref="TorchSharpLoadException">The native library cannot be loaded; the message says why and how to fix it.</exception>
    public static void EnsureLoaded() => TorchRuntime.EnsureLoaded();

    /// <summary>
    /// Loads libtorch (as <see cref="EnsureLoaded"/>) and, on AMD Linux x64 hosts, lets libtorch's statically linked MKL
    /// use its optimised kernels instead of the generic ones it picks for non-Intel CPUs (about 1.3–1.6× faster dense
    /// eigen-decompositions; docs/solvers.md, "Which decomposition"). Opt-in because it is process-wide and one-way: every
    /// later MKL call of the process, the application's own training included, takes the new kernels (same results to
    /// rounding, not bitwise). Call it as the first statement of <c>Main</c>: MKL chooses its kernels at its first call,
    /// and a later call changes nothing (the returned status says so). <c>HESSIANGEOMETRY_MKL_VENDOR_CHECK=keep</c>
    /// refuses it; <c>=bypass</c> applies it at load without this call. The CLI calls it.
    /// </summary>
    /// <returns>What was done, e.g. "vendor check bypassed (AMD), MKL CPU code 7", or why nothing was done.</returns>
    /// <exception cref="TorchSharpLoadException">The native library cannot be loaded.</exception>
    public static string UseOptimisedMklKernels()
    {
        TorchRuntime.EnsureLoaded();
        MklCodePath.Apply();
        return MklCodePath.Status;
    }

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

    /// <summary>
    /// When true (the default), the first analysis fixes glibc malloc's mmap and trim thresholds at 32 MiB and 64 MiB for
    /// the process, the ceiling of glibc's own dynamic thresholds, so that the temporaries libtorch frees after every
    /// Hessian-vector product are reused rather than returned to the kernel and page-faulted back in (on the residual CNN
    /// fixture most of the product's time went to that; docs/benchmarks.md). One-way; costs up to 64 MiB of freed heap
    /// kept mapped. Set it to false before the first analysis to leave malloc alone. Linux with glibc only; a process that
    /// sets the thresholds itself (GLIBC_TUNABLES, MALLOC_*_ variables) is left alone.
    /// </summary>
    public static bool TuneNativeHeap
    {
        get => tuneNativeHeap;
        set => tuneNativeHeap = value;
    }

    /// <summary>What <see cref="TuneNativeHeap"/> did in this process, for logs. Never throws.</summary>
    public static string DescribeNativeHeap() => NativeHeapSettings.Describe();
}
