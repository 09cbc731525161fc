using HessianGeometry.Analysis;
using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>Plots of the per-sample margins and the boundary points they end on (2-D inputs).</summary>
public static partial class ReportPlots
{
    /// <summary>
    /// Decision regions with each input coloured by its per-sample margin (distance to the nearest boundary); inputs
    /// whose search failed are drawn hollow in grey.
    /// </summary>
    /// <param name="points">Inputs, each of length 2.</param>
    /// <param name="labels">Class label of each input.</param>
    /// <param name="report">A report with <see cref="MinimumReport.SampleMargins"/>.</param>
    /// <param name="predict">Predicted class for each row of a batch of 2-D inputs.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="gridResolution">Grid cells per axis for the decision regions.</param>
    public static void SampleMargins(double[][] points, int[] labels, MinimumReport report, Func<double[][], int[]> predict, string path, int gridResolution = 300)
    {
        ArgumentNullException.ThrowIfNull(report);
        var margins = report.SampleMargins
            ?? throw new ArgumentException("The report has no per-sample margins; run the analysis with WithSampleMargins() (CLI: --sample-margins).", nameof(report));
        DecisionRegions(points, labels, margins.Select(m => m ?? double.NaN).ToArray(), predict, null, null,
            $"Distance of each input to the nearest decision boundary (Spearman ρ with max|Aᵢ| = {Format(report.MarginAlignmentCorrelation ?? double.NaN)})", path, "margin", gridResolution);
    }

    /// <summary>
    /// Decision regions, each input joined to its boundary point, the boundary points coloured by the mean curvature
    /// there, or for a piecewise-linear network by the number of linear pieces crossed on the way.
    /// </summary>
    /// <param name="points">Inputs, each of length 2.</param>
    /// <param name="labels">Class label of each input.</param>
    /// <param name="report">A report with <see cref="MinimumReport.SampleMarginDetails"/> holding the boundary points.</param>
    /// <param name="predict">Predicted class for each row of a batch of 2-D inputs.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="gridResolution">Grid cells per axis for the decision regions.</param>
    public static void BoundaryPoints(double[][] points, int[] labels, MinimumReport report, Func<double[][], int[]> predict, string path, int gridResolution = 300)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(predict);
        var details = report.SampleMarginDetails
            ?? throw new ArgumentException("The report has no per-sample margins; run the analysis with WithSampleMargins() (CLI: --sample-margins).", nameof(report));
        var ends = details.BoundaryPoints
            ?? throw new ArgumentException("The report holds no boundary points (they are written for inputs of at most 16 dimensions).", nameof(report));
        var linear = details.PiecesCrossed is not null;
        var values = linear
            ? details.PiecesCrossed!.Select(v => v is { } p ? (double)p : double.NaN).ToArray()
            : details.MeanCurvatures?.Select(v => v ?? double.NaN).ToArray() ?? Enumerable.Repeat(double.NaN, ends.Length).ToArray();
        CheckPoints(points, labels, values);
        CheckOutput(path, 800, 600);
        if (ends.Length != points.Length || ends.Any(e => e.Length != 2))
            throw new ArgumentException($"The report's boundary points ({ends.Length}) must be 2-D, one per input ({points.Length}); pass the inputs the report was computed on.", nameof(report));
        var margins = report.SampleMargins ?? [];
        var valid = Enumerable.Range(0, ends.Length).Where(i => i < margins.Length && margins[i] is not null).ToArray();

        var classes = Math.Max(labels.Max() + 1, 2);
        var box = BoundingBox(points.Concat(valid.Select(i => ends[i])).ToArray(), null, null);
        var regions = PredictGrid(predict, box, gridResolution, ref classes);
        using var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        var heatmap = plot.Add.Heatmap(regions);
        heatmap.Extent = box;
        heatmap.Colormap = new CategoricalColormap(Enumerable.Range(0, classes).Select(c => palette.GetColor(c).Lighten(0.7)).ToArray());
        heatmap.ManualRange = new ScottPlot.Range(-0.5, classes - 0.5);
        heatmap.Smooth = true;

        var colormap = new ScottPlot.Colormaps.Viridis();
        var range = ColourRange(valid.Select(i => values[i]).ToArray());
        foreach (var i in valid)
        {
            var line = plot.Add.Line(points[i][0], points[i][1], ends[i][0], ends[i][1]);
            line.LineColor = Colors.Black.WithAlpha(0.35);
            line.LineWidth = 1;
        }
        for (var j = 0; j < points.Length; j++)
        {
            var marker = plot.Add.Marker(points[j][0], points[j][1], ClassShapes[labels[j] % ClassShapes.Length], 5, Colors.Gray.WithAlpha(0.7));
            marker.MarkerLineWidth = 0;
        }
        foreach (var i in valid)
        {
            var colour = double.IsFinite(values[i]) ? colormap.GetColor(range.Normalize(values[i], clamp: true)) : Colors.White;
            var marker = plot.Add.Marker(ends[i][0], ends[i][1], MarkerShape.FilledCircle, 7, colour);
            marker.MarkerLineColor = Colors.Black;
            marker.MarkerLineWidth = 0.6f;
        }
        var colourBar = plot.Add.ColorBar(new ValueColorAxis(colormap, range), Edge.Right);
        colourBar.Label = linear ? "linear pieces crossed" : "mean curvature (1/input units)";
        plot.Axes.SetLimits(box);
        plot.Title(linear
            ? "Boundary points of the inputs (piecewise-linear network: curvature 0 a.e.; colour = linear pieces crossed)"
            : "Boundary points of the inputs, coloured by the boundary's mean curvature");
        plot.XLabel("x₁");
        plot.YLabel("x₂");
        Save(plot, path, DefaultWidth, DefaultHeight);
    }
}
