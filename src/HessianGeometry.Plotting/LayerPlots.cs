using System.Globalization;
using HessianGeometry.Analysis;
using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>PNG figures of the per-layer analysis of a <see cref="MinimumReport"/> (<see cref="MinimumReport.Layers"/>).</summary>
public static class LayerPlots
{
    /// <summary>
    /// Bar chart of the per-layer traces tr(H_ll), one bar per parameter group in model order, with error bars of ±2
    /// standard errors (about 95% for Hutchinson estimates; none for exact traces). The groups' sizes are in the tick
    /// labels; the traces sum to tr(H).
    /// </summary>
    /// <param name="report">A report with <see cref="MinimumReport.Layers"/>.</param>
    /// <param name="path">Where to write the PNG (folders are created).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">The report has no per-layer section.</exception>
    public static void Traces(MinimumReport report, string path, int width = ReportPlots.DefaultWidth, int height = ReportPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(report);
        ReportPlots.CheckOutput(path, width, height);
        var layers = report.Layers;
        if (layers is null || layers.Count == 0)
            throw new ArgumentException("The report must contain per-layer results but Layers is empty; request them with PerLayer() (CLI: --per-layer).", nameof(report));

        using var plot = ReportPlots.NewPlot();
        var colour = new ScottPlot.Palettes.Category10().GetColor(0);
        var bars = layers.Select((layer, i) => new Bar
        {
            Position = i + 1,
            Value = layer.Trace,
            Error = 2 * layer.TraceStandardError,
            FillColor = colour,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Add.HorizontalLine(0, 1, Colors.Gray);
        var positions = Enumerable.Range(1, layers.Count).Select(i => (double)i).ToArray();
        var labels = layers.Select(l => $"{l.Name}\n({l.Parameters.ToString("N0", CultureInfo.InvariantCulture)})").ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
        plot.Axes.SetLimitsX(0.4, layers.Count + 0.6);
        var exact = layers.All(l => l.TraceStandardError == 0);
        plot.Title(exact ? "Per-layer Hessian traces tr(H_ll)" : "Per-layer Hessian traces tr(H_ll), ±2 SE (Hutchinson)");
        plot.XLabel("parameter group (parameters)");
        plot.YLabel("trace of the diagonal block");
        ReportPlots.Save(plot, path, width, height);
    }
}
