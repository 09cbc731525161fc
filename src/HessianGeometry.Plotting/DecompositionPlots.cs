using System.Globalization;
using HessianGeometry.Analysis;
using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>
/// The decomposition H = GGN + R as a figure: the top eigenvalues of H and of the GGN side by side (same y axis, so an
/// outlier of H that the GGN reproduces sits at the same height), and the largest-magnitude eigenvalues of the residual R
/// in a third panel on its own scale; the trace split and the eigenspace overlap in the titles.
/// </summary>
public static class DecompositionPlots
{
    /// <summary>Writes the figure as a PNG.</summary>
    /// <param name="decomposition">The report's decomposition section.</param>
    /// <param name="path">Where to write the PNG (folders are created).</param>
    /// <param name="width">Image width in pixels (at least 100).</param>
    /// <param name="height">Image height in pixels (at least 100).</param>
    /// <exception cref="ArgumentException">The section has no eigenvalues.</exception>
    public static void Spectra(DecompositionSection decomposition, string path, int width = 1200, int height = ReportPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(decomposition);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"The image must be at least 100×100 pixels but was {width}×{height}; pass a larger size.");
        var h = decomposition.HessianEigenvalues;
        var g = decomposition.GgnEigenvalues;
        var r = decomposition.ResidualEigenvalues;
        if (h.Length == 0 && g.Length == 0)
            throw new ArgumentException("The decomposition has no eigenvalues; it needs TopEigenpairs(k) with k ≥ 1.", nameof(decomposition));

        var palette = new ScottPlot.Palettes.Category10();
        var shared = h.Concat(g).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var (low, high) = (Math.Min(0, shared.Min()), shared.Max());
        var pad = 0.08 * Math.Max(high - low, 1e-12);
        var t = decomposition.Traces;
        var panels = new List<Plot>
        {
            Panel(h, palette.GetColor(0), MarkerShape.FilledCircle, "Hessian H", $"tr H = {Format(t.Hessian)}\n", (low - pad, high + pad)),
            Panel(g, palette.GetColor(1), MarkerShape.FilledSquare, "GGN", $"tr GGN = {Format(t.Ggn)}\nmean cos² to H's top-{g.Length}: {Format(decomposition.SubspaceOverlap.MeanSquaredCosine)}", (low - pad, high + pad)),
        };
        if (r.Length > 0)
            panels.Add(Panel(r, palette.GetColor(3), MarkerShape.FilledTriangleUp, "Residual R = H − GGN (largest |λ|)", $"tr R = {Format(t.Residual)}\n", null));
        try
        {
            var figure = new Multiplot(panels[0]);
            foreach (var panel in panels.Skip(1))
                figure.AddPlot(panel);
            figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(folder))
                Directory.CreateDirectory(folder);
            figure.SavePng(path, width, height);
        }
        finally
        {
            foreach (var panel in panels)
                panel.Dispose();
        }
    }

    private static Plot Panel(double[] values, Color color, MarkerShape shape, string title, string subtitle, (double Low, double High)? limits)
    {
        var plot = new Plot();
        plot.Font.Automatic();
        var series = plot.Add.Scatter(Enumerable.Range(1, values.Length).Select(i => (double)i).ToArray(), values, color);
        series.MarkerSize = 8;
        series.MarkerShape = shape;
        series.LineWidth = 0;
        plot.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dotted);
        if (limits is { } l)
            plot.Axes.SetLimitsY(l.Low, l.High);
        plot.Axes.SetLimitsX(0.5, Math.Max(values.Length, 1) + 0.5);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title($"{title}\n{subtitle}");
        plot.XLabel("index i");
        plot.YLabel("eigenvalue");
        return plot;
    }

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
