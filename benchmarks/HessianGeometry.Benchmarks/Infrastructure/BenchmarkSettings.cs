namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// Process-wide settings chosen on the command line. The in-process toolchain runs every benchmark in this process, so
/// a static set by Program.cs is visible to [ParamsSource] members and [GlobalSetup] methods.
/// </summary>
public static class BenchmarkSettings
{
    /// <summary>
    /// True for the CI dry pass (--dry): one invocation per benchmark, and problem sizes small enough that the whole pass
    /// stays well under the CI budget. The full sizes are what docs/benchmarks.md reports.
    /// </summary>
    public static bool IsDry { get; set; }

    /// <summary>libtorch intra-op threads (--threads N, default 1).</summary>
    public static int Threads { get; set; } = 1;

    /// <summary>Returns <paramref name="dry"/> in a dry pass and <paramref name="full"/> otherwise.</summary>
    public static T[] Choose<T>(T[] full, T[] dry) => IsDry ? dry : full;
}
