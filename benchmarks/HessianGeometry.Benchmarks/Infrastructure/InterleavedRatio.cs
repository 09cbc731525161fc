using System.Diagnostics;
using System.Globalization;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// Times an operation and its baseline alternately in one loop, so that both see the same load of a shared machine;
/// BenchmarkDotNet measures them minutes apart. Shown in the "Interleaved ratio" column (docs/benchmarks.md).
/// </summary>
public static class InterleavedRatio
{
    /// <summary>The custom column the measurement is shown in.</summary>
    public const string Column = "Interleaved ratio";

    /// <summary>
    /// Runs <paramref name="baseline"/> and <paramref name="operation"/> in turn (3 warm-up rounds, then at least 15 rounds
    /// and about 2 s, at most 200; 3 rounds in a dry pass) and formats the median of the per-round ratios, the median
    /// times and the minimum times: "1.84 (2.117 / 1.150 ms; min 2.010 / 1.101)". <paramref name="perInvoke"/> divides
    /// the operation's time (a block of k products timed per vector).
    /// </summary>
    public static string Measure(Action baseline, Action operation, int perInvoke = 1) =>
        Measure(baseline, operation, perInvoke, static () => Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency);

    /// <summary>The column <see cref="MeasureCpu"/> is shown in.</summary>
    public const string CpuColumn = "Interleaved CPU ratio";

    /// <summary>
    /// As <see cref="Measure(Action, Action, int)"/>, timed by the calling thread's CPU time (<see cref="ThreadCpuClock"/>)
    /// instead of the wall clock: on a loaded machine a long operation is preempted more often than its short baseline,
    /// which biases the wall-clock ratio upwards. "n/a" where the clock cannot be read.
    /// </summary>
    public static string MeasureCpu(Action baseline, Action operation, int perInvoke = 1) =>
        ThreadCpuClock.IsAvailable ? Measure(baseline, operation, perInvoke, ThreadCpuClock.Milliseconds) : "n/a";

    private static string Measure(Action baseline, Action operation, int perInvoke, Func<double> clock)
    {
        for (var i = 0; i < 3; i++)
        {
            baseline();
            operation();
        }
        var (minRounds, maxRounds) = BenchmarkSettings.IsDry ? (3, 3) : (15, 200);
        var baselines = new List<double>();
        var operations = new List<double>();
        var total = Stopwatch.StartNew();
        while (operations.Count < maxRounds && (operations.Count < minRounds || total.Elapsed.TotalSeconds < 2))
        {
            var start = clock();
            baseline();
            baselines.Add(clock() - start);
            start = clock();
            operation();
            operations.Add((clock() - start) / perInvoke);
        }
        var ratio = Median(operations.Zip(baselines, (o, b) => o / b));
        return string.Create(CultureInfo.InvariantCulture,
            $"{ratio:0.00} ({Median(operations):0.000} / {Median(baselines):0.000} ms; min {operations.Min():0.000} / {baselines.Min():0.000}; {operations.Count} rounds)");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
