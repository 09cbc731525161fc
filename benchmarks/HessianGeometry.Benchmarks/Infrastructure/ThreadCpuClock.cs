using System.Runtime.InteropServices;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>, user + system, so page faults count). On a
/// machine shared by many processes, wall time includes the slices other processes take; CPU time does not. With one
/// libtorch thread, a CPU tensor's autograd runs on the calling thread, so this is the whole cost of a gradient or a
/// product. PyTorch's <c>time.thread_time()</c> reads the same clock (benchmarks/reference/pytorch_models_hvp.py
/// <c>--clock thread</c>).
/// </summary>
public static class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>True where the clock can be read (Linux).</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && TryRead(out _);

    /// <summary>The calling thread's CPU time in milliseconds.</summary>
    public static double Milliseconds()
    {
        if (!TryRead(out var ms))
            throw new PlatformNotSupportedException("CLOCK_THREAD_CPUTIME_ID is read on Linux only.");
        return ms;
    }

    private static bool TryRead(out double milliseconds)
    {
        milliseconds = 0;
        try
        {
            if (ClockGetTime(ClockThreadCpuTimeId, out var spec) != 0)
                return false;
            milliseconds = spec.Seconds * 1e3 + spec.Nanoseconds * 1e-6;
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
