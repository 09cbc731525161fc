namespace HessianGeometry.Landscapes;

/// <summary>The coordinate arrays of landscape grids.</summary>
internal static class LandscapeAxes
{
    public static void Validate(LandscapeGridOptions options)
    {
        if (options.Steps < 3 || options.Steps % 2 == 0 || options.Steps > 10_001)
            throw new ArgumentOutOfRangeException(nameof(options), options.Steps,
                $"Steps must be an odd number between 3 and 10001 (odd, so the centre is a grid point) but was {options.Steps}; pass e.g. 25.");
        if (!double.IsFinite(options.Span) || options.Span < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Span, $"Span must be a finite number ≥ 0 but was {options.Span}; pass e.g. 1.0.");
        if (!(options.QuadraticDepartureThreshold > 0) || !double.IsFinite(options.QuadraticDepartureThreshold))
            throw new ArgumentOutOfRangeException(nameof(options), options.QuadraticDepartureThreshold, "QuadraticDepartureThreshold must be a positive number, e.g. 0.1 for 10 %.");
    }

    /// <summary>−span … +span in <paramref name="steps"/> equal steps; the centre is exactly 0.</summary>
    public static double[] Symmetric(int steps, double span)
    {
        if (span <= 0)
            throw new ArgumentOutOfRangeException(nameof(span), span, "The span of a distance axis must be positive; pass e.g. 1.0.");
        var half = (steps - 1) / 2;
        return Enumerable.Range(-half, steps).Select(i => i == 0 ? 0.0 : span * i / half).ToArray();
    }

    /// <summary>
    /// A segment axis: n equally spaced points on [0, 1] (both ends included) extended by m more points of the same
    /// spacing on each side, with n + 2m = steps and m chosen so the extension m/(n − 1) is closest to
    /// <paramref name="extension"/>.
    /// </summary>
    public static double[] Segment(int steps, double extension)
    {
        var m = (int)Math.Round(extension * (steps - 1) / (1 + 2 * extension), MidpointRounding.AwayFromZero);
        m = Math.Clamp(m, 0, (steps - 2) / 2);
        var inner = steps - 2 * m;
        return Enumerable.Range(-m, steps).Select(i => i == 0 ? 0.0 : i == inner - 1 ? 1.0 : (double)i / (inner - 1)).ToArray();
    }

    /// <summary>Per axis, the range of the anchors widened by <paramref name="margin"/> times their extent on each side.</summary>
    public static double[][] Box(IReadOnlyList<double[]> anchors, int steps, double margin)
    {
        if (anchors.Count == 0)
            throw new InvalidOperationException("A plane landscape needs its models as anchors.");
        var dims = anchors[0].Length;
        var axes = new double[dims][];
        for (var k = 0; k < dims; k++)
        {
            var low = anchors.Min(a => a[k]);
            var high = anchors.Max(a => a[k]);
            var extent = high - low;
            if (extent <= 0)
                extent = Math.Max(anchors.Max(a => Math.Abs(a[k])), 1.0);
            low -= margin * extent;
            high += margin * extent;
            axes[k] = Enumerable.Range(0, steps).Select(i => low + (high - low) * i / (steps - 1)).ToArray();
        }
        return axes;
    }
}
