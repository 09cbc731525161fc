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

    /// <summary>
    /// The problems with HG_BENCH_MIN_P ≤ p ≤ HG_BENCH_MAX_P (parameters; either bound unset = none): the side-by-side
    /// scripts pick one size per run (benchmarks/reference/run_issue17_side_by_side.sh).
    /// </summary>
    public static IEnumerable<BenchmarkProblem> WithinSizeLimits(IEnumerable<BenchmarkProblem> problems)
    {
        static long Bound(string name, long none) =>
            long.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : none;
        long min = Bound("HG_BENCH_MIN_P", 0), max = Bound("HG_BENCH_MAX_P", long.MaxValue);
        return problems.Where(problem => problem.ParameterCount >= min && problem.ParameterCount <= max);
    }
}
