using System.Globalization;
using HessianGeometry.Landscapes;
using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>
/// PNG figures of a <see cref="LandscapeResult"/>: a 1-D loss curve with, along an eigenvector, the quadratic model
/// L(θ*) + ½λα² and the least-squares quartic fit (where they part, the Hessian stops describing the loss); a 2-D heat
/// map of the loss with contour lines, the models of an interpolation plane and a projected training trajectory.
/// </summary>
public static class LandscapePlots
{
    /// <summary>
    /// Plots a 1-D landscape, or, for a 2-D eigenvector landscape, the slice through θ* along direction
    /// <paramref name="axis"/>, with the quadratic model and the quartic fit when the directions are eigenvectors.
    /// </summary>
    /// <param name="result">The landscape.</param>
    /// <param name="path">Where to write the PNG (folders are created).</param>
    /// <param name="axis">Which direction's slice (0 or 1; only 0 for a 1-D landscape).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static void Curve(LandscapeResult result, string path, int axis = 0, int width = ReportPlots.DefaultWidth, int height = ReportPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(result);
        CheckOutput(path, width, height);
        if (axis < 0 || axis >= result.Dimensions || (result.Dimensions == 2 && result.QuadraticModel is null))
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "Pass axis 0 for a 1-D landscape, or 0/1 for the slices of a 2-D eigenvector landscape; plot other 2-D landscapes with Surface.");
        var comparison = result.QuadraticModel?[axis];
        var alphas = comparison?.Coordinates ?? result.Coordinates[0];
        var loss = comparison?.Loss ?? result.Loss;

        using var plot = ReportPlots.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        var finite = Enumerable.Range(0, alphas.Length).Where(i => double.IsFinite(loss[i])).ToArray();
        var measured = plot.Add.Scatter(finite.Select(i => alphas[i]).ToArray(), finite.Select(i => loss[i]).ToArray(), palette.GetColor(0));
        measured.LegendText = "loss (measured)";
        measured.LineWidth = 2;
        measured.MarkerSize = 5;
        var (low, high) = (finite.Select(i => loss[i]).DefaultIfEmpty(0).Min(), finite.Select(i => loss[i]).DefaultIfEmpty(1).Max());
        if (comparison is not null)
        {
            var fine = Enumerable.Range(0, 201).Select(i => alphas[0] + (alphas[^1] - alphas[0]) * i / 200).ToArray();
            var quadratic = plot.Add.Scatter(fine, fine.Select(a => result.CenterLoss + 0.5 * comparison.Eigenvalue * a * a).ToArray(), palette.GetColor(3));
            quadratic.LegendText = $"L(θ*) + ½λα², λ = {Format(comparison.Eigenvalue)}";
            quadratic.LinePattern = LinePattern.Dashed;
            quadratic.MarkerSize = 0;
            if (comparison.QuarticCoefficients is { } quartic)
            {
                var fit = plot.Add.Scatter(fine, fine.Select(a => QuadraticModelComparison.EvaluatePolynomial(quartic, a)).ToArray(), palette.GetColor(2));
                fit.LegendText = "quartic least-squares fit";
                fit.LinePattern = LinePattern.Dotted;
                fit.MarkerSize = 0;
            }
            foreach (var departure in new[] { -comparison.DepartureNegative, comparison.DeparturePositive })
            {
                if (departure is not { } d)
                    continue;
                var line = plot.Add.VerticalLine(d, 1, palette.GetColor(3).WithAlpha(0.5));
                line.LinePattern = LinePattern.DenselyDashed;
            }
            if (comparison.DepartureNegative is not null || comparison.DeparturePositive is not null)
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"quadratic model off by > {comparison.Threshold:P0}", LineColor = palette.GetColor(3).WithAlpha(0.5), LineWidth = 1, LinePattern = LinePattern.DenselyDashed });
        }
        foreach (var anchor in result.Anchors.Where(a => a.Loss is not null && result.Dimensions == 1))
        {
            var marker = plot.Add.Marker(anchor.Coordinates[0], anchor.Loss!.Value, MarkerShape.FilledDiamond, 12, Colors.Black);
            marker.LegendText = anchor.Name;
        }
        // The overlays grow as α², far above the measured curve: keep the axes on the measurements.
        var pad = 0.08 * Math.Max(high - low, 1e-12);
        plot.Axes.SetLimitsY(low - pad, high + pad);
        plot.Axes.SetLimitsX(alphas[0], alphas[^1]);
        plot.Title(CurveTitle(result, axis));
        plot.XLabel(result.Kind == LandscapeDirectionKind.Interpolation ? "t (0 = model A, 1 = model B)" : $"distance along {result.Directions[axis]}");
        plot.YLabel("mean loss");
        plot.ShowLegend(Edge.Bottom).Legend.Orientation = Orientation.Horizontal;
        Save(plot, path, width, height);
    }

    /// <summary>
    /// Plots a 2-D landscape as a heat map of the loss (log₁₀ when every value is positive) with contour lines; the models
    /// of an interpolation plane are marked and a training trajectory (PCA directions) is drawn as its projection.
    /// </summary>
    /// <param name="result">A 2-D landscape.</param>
    /// <param name="path">Where to write the PNG (folders are created).</param>
    /// <param name="contours">Number of contour levels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static void Surface(LandscapeResult result, string path, int contours = 12, int width = ReportPlots.DefaultWidth, int height = ReportPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(result);
        CheckOutput(path, width, height);
        if (result.Dimensions != 2)
            throw new ArgumentException($"Surface needs a 2-D landscape but this one has {result.Dimensions} direction(s); plot it with Curve.", nameof(result));
        if (contours < 1)
            throw new ArgumentOutOfRangeException(nameof(contours), contours, "Pass at least one contour level.");
        var xs = result.Coordinates[0];
        var ys = result.Coordinates[1];
        var finite = result.Loss.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
            throw new ArgumentException("Every loss value of the landscape is NaN or infinite; reduce the span.", nameof(result));
        var logScale = finite.All(v => v > 0);
        var fill = logScale ? Math.Log10(finite.Max()) : finite.Max();
        double Value(int i, int j)
        {
            var v = result.LossAt(i, j);
            return !double.IsFinite(v) ? fill : logScale ? Math.Log10(v) : v;
        }

        using var plot = ReportPlots.NewPlot();
        // Heat-map row 0 is drawn at the top, so rows run from the largest coordinate on axis 1 down.
        var cells = new double[ys.Length, xs.Length];
        var points = new Coordinates3d[ys.Length, xs.Length];
        for (var r = 0; r < ys.Length; r++)
        {
            for (var c = 0; c < xs.Length; c++)
            {
                cells[r, c] = Value(c, ys.Length - 1 - r);
                points[r, c] = new Coordinates3d(xs[c], ys[ys.Length - 1 - r], cells[r, c]);
            }
        }
        var heatmap = plot.Add.Heatmap(cells);
        var dx = (xs[^1] - xs[0]) / (xs.Length - 1) / 2;
        var dy = (ys[^1] - ys[0]) / (ys.Length - 1) / 2;
        heatmap.Extent = new CoordinateRect(xs[0] - dx, xs[^1] + dx, ys[0] - dy, ys[^1] + dy);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Smooth = true;
        var colourBar = plot.Add.ColorBar(heatmap);
        colourBar.Label = logScale ? "log₁₀ loss" : "loss";

        var lines = new ScottPlot.Plottables.ContourLines { ContourLineCount = contours };
        lines.Update(points);
        plot.Add.Plottable(lines);

        if (result.Kind == LandscapeDirectionKind.TrajectoryPca && result.Anchors.Length > 1)
        {
            var path2 = plot.Add.Scatter(result.Anchors.Select(a => a.Coordinates[0]).ToArray(), result.Anchors.Select(a => a.Coordinates[1]).ToArray(), Colors.White);
            path2.LineWidth = 2;
            path2.MarkerSize = 6;
            path2.LegendText = "training trajectory (projected)";
        }
        foreach (var anchor in result.Anchors.Where(a => result.Kind != LandscapeDirectionKind.TrajectoryPca || a == result.Anchors[^1]))
        {
            var marker = plot.Add.Marker(anchor.Coordinates[0], anchor.Coordinates[1], MarkerShape.FilledDiamond, 14, Colors.White);
            marker.MarkerLineColor = Colors.Black;
            marker.MarkerLineWidth = 1;
            marker.LegendText = anchor.Loss is { } l ? $"{anchor.Name} (loss {Format(l)})" : anchor.Name;
        }
        if (result.Anchors.Length == 0)
            plot.Add.Marker(0, 0, MarkerShape.Cross, 12, Colors.White).LegendText = $"θ* (loss {Format(result.CenterLoss)})";

        plot.Axes.SetLimits(heatmap.Extent.Value);
        plot.Title(SurfaceTitle(result));
        plot.XLabel(AxisLabel(result, 0));
        plot.YLabel(AxisLabel(result, 1));
        plot.ShowLegend(Edge.Bottom).Legend.Orientation = Orientation.Horizontal;
        Save(plot, path, width, height);
    }

    private static string CurveTitle(LandscapeResult result, int axis) => result.Kind switch
    {
        LandscapeDirectionKind.Eigenvector => $"Loss along eigenvector {result.Directions[axis]} through θ*",
        LandscapeDirectionKind.FilterNormalizedRandom => "Loss along a filter-normalised random direction",
        LandscapeDirectionKind.Interpolation => "Loss on the segment between two models",
        LandscapeDirectionKind.TrajectoryPca => "Loss along the first PCA direction of the trajectory",
        _ => $"Loss along {result.Directions[axis]}",
    };

    private static string SurfaceTitle(LandscapeResult result) => result.Kind switch
    {
        LandscapeDirectionKind.Eigenvector => "Loss on the plane of the top two eigenvectors",
        LandscapeDirectionKind.FilterNormalizedRandom => "Loss on a plane of filter-normalised random directions",
        LandscapeDirectionKind.Plane => "Loss on the plane through three models",
        LandscapeDirectionKind.TrajectoryPca => "Loss on the PCA plane of the training trajectory",
        _ => "Loss landscape",
    };

    private static string AxisLabel(LandscapeResult result, int axis) =>
        result.Kind == LandscapeDirectionKind.TrajectoryPca && result.ExplainedVariance is { } ev
            ? $"distance along {result.Directions[axis]} ({ev[axis].ToString("P1", CultureInfo.InvariantCulture)} of the trajectory)"
            : $"distance along {result.Directions[axis]}";

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static void CheckOutput(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"The image must be at least 100×100 pixels but was {width}×{height}; pass a larger size.");
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        plot.SavePng(path, width, height);
    }
}
