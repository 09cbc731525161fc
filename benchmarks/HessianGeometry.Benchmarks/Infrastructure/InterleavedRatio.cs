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
    public static string Measure(Action baseline, Action operation, int perInvoke = 1)
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
            var start = Stopwatch.GetTimestamp();
            baseline();
            baselines.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            start = Stopwatch.GetTimestamp();
            operation();
            operations.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / perInvoke);
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
