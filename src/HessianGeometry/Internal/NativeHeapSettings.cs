using System.Runtime.InteropServices;

namespace HessianGeometry.Internal;

/// <summary>
/// Fixes glibc malloc's mmap and trim thresholds at the ceiling its own dynamic heuristic climbs to (32 MiB and 64 MiB on
/// 64-bit), once per process, before the first analysis. libtorch frees every temporary of a product (im2col columns of a
/// convolution, activations of the recomputed graph) and allocates them again for the next one; with glibc's default,
/// freed memory at the top of the heap above a threshold that has not yet climbed is returned to the kernel and every
/// next product page-faults it back in, zeroed. On the residual CNN fixture that was 1,100–1,900 page faults per
/// Hessian-vector product against about 100 with the thresholds fixed (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// One-way: glibc has no call that returns to its dynamic thresholds, so the setting stays for the process's lifetime.
/// Its cost is that up to 64 MiB of freed heap stays mapped instead of being returned. Left alone when the process set
/// malloc thresholds itself (<c>GLIBC_TUNABLES</c> or <c>MALLOC_*_</c> variables), when
/// <see cref="HessianGeometryRuntime.TuneNativeHeap"/> is false at the first analysis, and where the C library is not
/// glibc (macOS, Windows, musl). Never throws.
/// </remarks>
internal static class NativeHeapSettings
{
    /// <summary>glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the largest value its dynamic mmap threshold reaches.</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Twice the mmap threshold, the trim threshold glibc's dynamic rule pairs with it.</summary>
    public const int TrimThresholdBytes = 64 << 20;

    private const int MTrimThreshold = -1;
    private const int MMmapThreshold = -3;

    private static readonly object Gate = new();
    private static string? outcome;

    /// <summary>The variables through which a process sets glibc's malloc thresholds itself.</summary>
    internal static readonly string[] UserVariables = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"];

    /// <summary>Applies the thresholds on the first call (see the type's remarks); later calls do nothing.</summary>
    public static void EnsureApplied()
    {
        if (Volatile.Read(ref outcome) is not null)
            return;
        lock (Gate)
            outcome ??= Apply();
    }

    /// <summary>What was done, e.g. "native heap: glibc 2.36 malloc, mmap threshold 32 MiB, trim threshold 64 MiB (...)".</summary>
    public static string Describe()
    {
        lock (Gate)
            return outcome ?? "native heap: not yet configured (the first analysis fixes glibc malloc's thresholds unless HessianGeometryRuntime.TuneNativeHeap is false)";
    }

    /// <summary>
    /// The first way the process already sets malloc thresholds itself (a <c>MALLOC_*_</c> variable, or a threshold in
    /// <c>GLIBC_TUNABLES</c>), or null.
    /// </summary>
    internal static string? UserSetting(Func<string, string?> environment)
    {
        foreach (var name in UserVariables)
        {
            if (!string.IsNullOrEmpty(environment(name)))
                return name;
        }
        var tunables = environment("GLIBC_TUNABLES") ?? string.Empty;
        foreach (var tunable in new[] { "glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold", "glibc.malloc.top_pad", "glibc.malloc.mmap_max" })
        {
            if (tunables.Contains(tunable, StringComparison.Ordinal))
                return "GLIBC_TUNABLES (" + tunable + ")";
        }
        return null;
    }

    private static string Apply()
    {
        const string Prefix = "native heap: ";
        if (!HessianGeometryRuntime.TuneNativeHeap)
            return Prefix + "left alone (HessianGeometryRuntime.TuneNativeHeap = false)";
        if (!OperatingSystem.IsLinux())
            return Prefix + "left alone (the thresholds are glibc's; this is not Linux)";
        var user = UserSetting(Environment.GetEnvironmentVariable);
        if (user is not null)
            return Prefix + $"left alone (the process sets malloc thresholds itself: {user})";
        try
        {
            if (!NativeLibrary.TryLoad("libc.so.6", out var libc)
                || !NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out var versionExport)
                || !NativeLibrary.TryGetExport(libc, "mallopt", out var malloptExport))
            {
                return Prefix + "left alone (the C library is not glibc)";
            }
            var version = Marshal.PtrToStringUTF8(Marshal.GetDelegateForFunctionPointer<VersionFunction>(versionExport)()) ?? "?";
            var mallopt = Marshal.GetDelegateForFunctionPointer<MalloptFunction>(malloptExport);
            // mallopt returns 1 on success and 0 on an invalid value.
            if (mallopt(MMmapThreshold, MmapThresholdBytes) != 1 || mallopt(MTrimThreshold, TrimThresholdBytes) != 1)
                return Prefix + $"left alone (glibc {version} refused the thresholds)";
            return Prefix + $"glibc {version} malloc, mmap threshold {MmapThresholdBytes >> 20} MiB, trim threshold {TrimThresholdBytes >> 20} MiB " +
                "(fixed for the process; HessianGeometryRuntime.TuneNativeHeap = false before the first analysis leaves them alone)";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or MarshalDirectiveException)
        {
            return Prefix + "left alone (" + ex.Message + ")";
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr VersionFunction();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MalloptFunction(int parameter, int value);
}
