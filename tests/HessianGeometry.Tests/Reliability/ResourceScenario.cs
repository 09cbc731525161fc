using System.Diagnostics;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>What a long run of products and solves left behind.</summary>
/// <param name="LiveAtStart">Live tensors on the thread before anything was created.</param>
/// <param name="LiveAfterWarmUp">Live tensors after the warm-up (model, data, operator, vector exist).</param>
/// <param name="LiveAfterLoop">Live tensors after the measured loop; equal to <paramref name="LiveAfterWarmUp"/> when nothing leaks.</param>
/// <param name="LiveAfterDispose">Live tensors once the model, data, operator and vector are disposed.</param>
/// <param name="RssAfterWarmUpKb">Resident set size less the managed heap after the warm-up (kB); null off Linux.</param>
/// <param name="RssAfterLoopKb">Resident set size after the measured loop.</param>
/// <param name="LoopProducts">Hessian-vector products the measured single products made (must equal the count asked for).</param>
/// <param name="LanczosRuns">Full Lanczos solves in the measured loop.</param>
/// <param name="LanczosProducts">Hessian-vector products those solves made.</param>
/// <param name="Seconds">Wall time of the measured loop (reported, never asserted).</param>
internal sealed record ResourceMeasurement(long LiveAtStart, long LiveAfterWarmUp, long LiveAfterLoop, long LiveAfterDispose, long? RssAfterWarmUpKb,
    long? RssAfterLoopKb, long LoopProducts, int LanczosRuns, long LanczosProducts, double Seconds);

/// <summary>
/// Many Hessian-vector products and full Lanczos solves on a tiny streamed model (3-4-3 tanh, p = 31, two batches), in a
/// process of its own so that the resident set size is not disturbed by tests running in parallel.
/// </summary>
internal static class ResourceScenario
{
    /// <summary>
    /// Warm-up, then the measured loop. The warm-up runs at least <paramref name="warmUpProducts"/> products and continues
    /// until the garbage collector has collected generation 0 four times on its own: before that, the managed heap is still
    /// growing into its allocation budget (each product allocates ~13 KB of tensor wrappers), which is warm-up, not a leak.
    /// </summary>
    public static ResourceMeasurement Run(int products, int lanczosRuns, int warmUpProducts, int warmUpRuns)
    {
        var statistics = DisposeScopeManager.Statistics;
        Settle();
        var liveAtStart = statistics.ThreadTotalLiveCount;

        var (x, y) = TinyModels.Blobs(32, 3, 3, seed: 41);
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 42);
        var data = DataSource.FromTensors(x, y, batchSize: 16);
        var op = new LossHessianOperator(model, LossFunction.CrossEntropy, data);
        var v = randn(op.Dimension, dtype: op.DType, generator: new Generator(43));

        var collections = GC.CollectionCount(0);
        var warmedUp = 0;
        while ((warmedUp < warmUpProducts || GC.CollectionCount(0) < collections + 4) && warmedUp < 100_000)
        {
            op.Apply(v).Dispose();
            warmedUp++;
        }
        Work(op, v, 0, warmUpRuns, seedOffset: 1_000_000);
        Settle();
        var liveAfterWarmUp = statistics.ThreadTotalLiveCount;
        var rssAfterWarmUp = ResidentSetKb();

        var clock = Stopwatch.StartNew();
        var (loopProducts, lanczosProducts) = Work(op, v, products, lanczosRuns, seedOffset: 0);
        clock.Stop();
        Settle();
        var liveAfterLoop = statistics.ThreadTotalLiveCount;
        var rssAfterLoop = ResidentSetKb();

        op.Dispose();
        v.Dispose();
        data.Inputs!.Dispose();
        data.Targets!.Dispose();
        x.Dispose();
        y.Dispose();
        model.Dispose();
        Settle();
        return new ResourceMeasurement(liveAtStart, liveAfterWarmUp, liveAfterLoop, statistics.ThreadTotalLiveCount, rssAfterWarmUp, rssAfterLoop,
            loopProducts, lanczosRuns, lanczosProducts, clock.Elapsed.TotalSeconds);
    }

    private static (long Products, long LanczosProducts) Work(LossHessianOperator op, Tensor v, int products, int lanczosRuns, int seedOffset)
    {
        var start = op.ApplicationCount;
        for (var i = 0; i < products; i++)
            op.Apply(v).Dispose();
        var afterProducts = op.ApplicationCount;
        var lanczos = new Lanczos();
        for (var r = 0; r < lanczosRuns; r++)
        {
            using var result = lanczos.Solve(op, new EigenSolverOptions { Count = 3, Seed = seedOffset + r });
            if (!result.Converged)
                throw new InvalidOperationException($"Lanczos run {r} did not converge.");
        }
        return (afterProducts - start, op.ApplicationCount - afterProducts);
    }

    /// <summary>
    /// Collects managed garbage and hands glibc's free pages back to the kernel, so RSS shows memory in use rather than
    /// where the allocator's free lists happen to stand: without the trim, RSS after the same loop varied by ±5 MB
    /// between runs, and did not grow with a loop four times as long.
    /// </summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (OperatingSystem.IsLinux())
            _ = MallocTrim(0);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>
    /// VmRSS from /proc/self/status minus the managed heap's committed bytes, in kB (null where there is no procfs): the
    /// GC keeps regions committed for its own reasons (+3.5 MB between two identical loops here), which is not a leak of
    /// native tensor memory.
    /// </summary>
    private static long? ResidentSetKb()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
            return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        if (line is null)
            return null;
        var rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return rss - GC.GetGCMemoryInfo().TotalCommittedBytes / 1024;
    }
}
