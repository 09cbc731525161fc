using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// Peak native memory and leak check per benchmark operation, reported in the columns "Native peak", "Live tensors Δ"
/// and "RSS Δ". MemoryDiagnoser sees only managed allocations; libtorch allocates tensors with malloc, so the probe
/// reads the kernel's view of the process instead.
/// </summary>
/// <remarks>
/// Method, for each [Benchmark] method once per parameter set (in GlobalSetup, outside the timed runs):
/// 1. run the operation once (warm-up: JIT, lazily built caches such as a cached first-order graph);
/// 2. settle: full GC with finalizers, then glibc <c>malloc_trim(0)</c>, which returns freed heap pages to the kernel, so
///    the resident set (VmRSS) is close to what is live; record it and the live-tensor count
///    (<see cref="DisposeScopeManager.Statistics"/>);
/// 3. reset the kernel's high-water mark (write 5 to /proc/self/clear_refs), run the operation once, read VmHWM:
///    "Native peak" = VmHWM − settled VmRSS, the extra resident memory one invocation needed at its peak (tensors,
///    autograd graph, libtorch workspaces; managed allocations are included but are small here);
/// 4. run it <c>repeats</c> more times and settle again: "Live tensors Δ" must be 0 (otherwise the leak is listed at the
///    end of the run and the process exits with 1); "RSS Δ" is the growth of the native resident set over all measured
///    runs: VmRSS minus the managed heap's committed bytes (<see cref="GCMemoryInfo.TotalCommittedBytes"/>), since the
///    GC keeps segments it has grown and would otherwise show up as growth. A few MB either way is allocator noise.
/// Linux only; elsewhere the columns show "n/a".
/// </remarks>
public static class NativeMemoryProbe
{
    /// <summary>Column: extra resident memory at the peak of one invocation.</summary>
    public const string PeakColumn = "Native peak";

    /// <summary>Column: TorchSharp tensors gained over the measured invocations (must be 0).</summary>
    public const string LiveColumn = "Live tensors Δ";

    /// <summary>Column: native resident growth over the measured invocations.</summary>
    public const string RssColumn = "RSS Δ";

    /// <summary>Operations that left live tensors behind; Program.cs fails the run (exit code 1) when any did.</summary>
    public static ConcurrentBag<string> Leaks { get; } = [];

    private static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/status");

    /// <summary>Probes every [Benchmark] method of <paramref name="benchmark"/> that has not been probed for its current parameters.</summary>
    /// <param name="benchmark">The benchmark instance, fully set up.</param>
    /// <param name="repeats">Extra runs for the leak check (fewer in a dry pass).</param>
    /// <param name="warmUp">
    /// Run each operation once before measuring. Leave it on unless the operation's caches were built in GlobalSetup and
    /// one run takes minutes.
    /// </param>
    public static void ProbeAll(object benchmark, int repeats = 3, bool warmUp = true)
    {
        var parameters = CaseMetrics.Parameters(benchmark);
        foreach (var method in CaseMetrics.BenchmarkMethods(CaseMetrics.DeclaringType(benchmark)))
        {
            if (SkippedForAttribute.For(method, parameters) is not null || CaseMetrics.Has(benchmark, method.Name, PeakColumn))
                continue;
            string peak, live, rss;
            try
            {
                (peak, live, rss) = Measure(() => Dispose(method.Invoke(benchmark, null)), BenchmarkSettings.IsDry ? Math.Min(1, repeats) : repeats, warmUp);
            }
            catch (TargetInvocationException)
            {
                // The method itself fails; its own case will fail the same way when BenchmarkDotNet runs it.
                (peak, live, rss) = ("failed", "failed", "failed");
            }
            CaseMetrics.Record(benchmark, method.Name, PeakColumn, peak);
            CaseMetrics.Record(benchmark, method.Name, LiveColumn, live);
            CaseMetrics.Record(benchmark, method.Name, RssColumn, rss);
            if (live is not ("0" or "n/a" or "failed"))
                Leaks.Add($"{CaseMetrics.DeclaringType(benchmark).Name}.{method.Name} ({string.Join(", ", parameters.Select(p => $"{p.Key}={p.Value}"))}): {live} tensors");
        }
    }

    /// <summary>Runs the probe on one operation and returns the three formatted column values.</summary>
    public static (string Peak, string LiveTensors, string Rss) Measure(Action operation, int repeats, bool warmUp = true)
    {
        if (warmUp)
            operation();
        if (!Supported)
            return ("n/a", "n/a", "n/a");
        var baseRss = Settle();
        var baseNative = baseRss - GC.GetGCMemoryInfo().TotalCommittedBytes;
        var baseLive = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        File.WriteAllText("/proc/self/clear_refs", "5");
        operation();
        var peak = Status("VmHWM") - baseRss;
        for (var i = 0; i < repeats; i++)
            operation();
        var rss = Settle() - GC.GetGCMemoryInfo().TotalCommittedBytes - baseNative;
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount - baseLive;
        return (Megabytes(peak), live.ToString(CultureInfo.InvariantCulture), Megabytes(rss));
    }

    /// <summary>Resident bytes after a full GC and <c>malloc_trim(0)</c>.</summary>
    public static long Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _ = MallocTrim(0);
        return Status("VmRSS");
    }

    /// <summary>A /proc/self/status field in bytes (the kernel reports kB).</summary>
    public static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return 1024 * long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"/proc/self/status has no field {field}.");
    }

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    private static void Dispose(object? result)
    {
        if (result is IDisposable disposable)
            disposable.Dispose();
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
