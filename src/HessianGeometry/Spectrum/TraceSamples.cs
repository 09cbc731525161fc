namespace HessianGeometry.Spectrum;

/// <summary>Mean and standard error of i.i.d. samples, two-pass for accuracy when the mean dwarfs the spread.</summary>
internal static class TraceSamples
{
    public static (double Mean, double StandardError) MeanAndStandardError(IReadOnlyList<double> samples)
    {
        var n = samples.Count;
        if (n == 0)
            return (double.NaN, double.NaN);
        double sum = 0;
        foreach (var x in samples)
            sum += x;
        var mean = sum / n;
        if (n < 2)
            return (mean, double.PositiveInfinity);
        double squares = 0;
        foreach (var x in samples)
            squares += (x - mean) * (x - mean);
        var variance = squares / (n - 1);
        return (mean, Math.Sqrt(variance / n));
    }

    public static bool Reached(double mean, double standardError, double relativeTarget) =>
        standardError == 0 || (relativeTarget > 0 && standardError <= relativeTarget * Math.Abs(mean));
}
