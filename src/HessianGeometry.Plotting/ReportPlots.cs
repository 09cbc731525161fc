using System.Globalization;
using HessianGeometry.Analysis;
using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>
/// PNG figures of a <see cref="MinimumReport"/> with ScottPlot 5: the Hessian eigenvalue spectrum, the spectral
/// density, and for 2-D inputs the model's decision regions with the training points coloured by their alignment
/// |A_i(x)| = |cos(∇_θ ℓ(x), v_i)| ("Unveiling the Hessian's Connection to the Decision Boundary"). The project takes
/// plain arrays and delegates, never tensors, so it does not depend on a TorchSharp backend.
/// </summary>
public static partial class ReportPlots
{
    /// <summary>Default image width in pixels.</summary>
    public const int DefaultWidth = 900;

    /// <summary>Default image height in pixels.</summary>
    public const int DefaultHeight = 650;

    private static readonly MarkerShape[] ClassShapes =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.FilledTriangleDown];

    /// <summary>
    /// Plots the computed eigenvalues against their index: the top ones λ_1 ≥ λ_2 ≥ … at i = 1 … k and, in a second
    /// panel with its own scale, the bottom ones λ_p ≤ λ_{p−1} ≤ … at i = 1 … k_b. When the report has them, the
    /// Wolkowicz–Styan (1980) intervals m + s/√(p−1) ≤ λmax ≤ m + s√(p−1) and m − s√(p−1) ≤ λmin ≤ m − s/√(p−1) are
    /// dashed horizontal lines and their values are in the legend; a bound far outside the eigenvalues' range (WS
    /// bounds are loose for large p) is left beyond the axes and marked so in the legend rather than squashing the plot.
    /// </summary>
    /// <param name="report">A report with <see cref="MinimumReport.Eigenvalues"/> or <see cref="MinimumReport.BottomEigenvalues"/>.</param>
    /// <param name="path">Where to write the PNG (folders are created).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">The report has no eigenvalues.</exception>
    public static void Spectrum(MinimumReport report, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(report);
        CheckOutput(path, width, height);
        var top = report.Eigenvalues ?? [];
        var bottom = report.BottomEigenvalues ?? [];
        if (top.Length == 0 && bottom.Length == 0)
            throw new ArgumentException("The report must contain eigenvalues but both Eigenvalues and BottomEigenvalues are empty; request top or bottom eigenpairs in the analysis.", nameof(report));

        var palette = new ScottPlot.Palettes.Category10();
        var ws = report.WolkowiczStyan;
        var solver = report.Solver is null ? string.Empty : $", {report.Solver}";
        var size = $"p = {report.Parameters.ToString("N0", CultureInfo.InvariantCulture)}{solver}";
        var panels = new List<Plot>();
        if (top.Length > 0)
            panels.Add(EigenvaluePanel(top, palette.GetColor(0), MarkerShape.FilledCircle, "largest λ_i", "Largest Hessian eigenvalues", size,
                ws is null ? null : (ws.LambdaMaxLower, ws.LambdaMaxUpper, "λmax"), palette.GetColor(3)));
        if (bottom.Length > 0)
            panels.Add(EigenvaluePanel(bottom, palette.GetColor(1), MarkerShape.FilledSquare, "smallest λ_(p+1−i)", "Smallest Hessian eigenvalues", size,
                ws is null ? null : (ws.LambdaMinLower, ws.LambdaMinUpper, "λmin"), palette.GetColor(2)));
        try
        {
            if (panels.Count == 1)
            {
                Save(panels[0], path, width, height);
                return;
            }
            var figure = new Multiplot(panels[0]);
            foreach (var panel in panels.Skip(1))
                figure.AddPlot(panel);
            figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
            PrepareFolder(path);
            figure.SavePng(path, width, height);
        }
        finally
        {
            foreach (var panel in panels)
                panel.Dispose();
        }
    }

    /// <summary>
    /// Plots the smoothed spectral density φ(t) = Σ_l w_l N(t; θ_l, σ²) of stochastic Lanczos quadrature
    /// (Ghorbani, Krishnan &amp; Xiao 2019) against t, on a log scale by default: densities below 10⁻⁶ of the peak
    /// (including exact zeros) are clamped there so the log stays finite.
    /// </summary>
    /// <param name="report">A report with <see cref="MinimumReport.SpectralDensity"/>.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="logScale">Log-scale y axis (the bulk near 0 and the outliers differ by orders of magnitude).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">The report has no spectral density.</exception>
    public static void Density(MinimumReport report, string path, bool logScale = true, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(report);
        var density = report.SpectralDensity
            ?? throw new ArgumentException("The report must contain a spectral density but SpectralDensity is null; request the spectral density in the analysis.", nameof(report));
        var type = report.HesdType ?? report.Hesd?.Type;
        var title = type is null ? "Hessian spectral density (SLQ)" : $"Hessian spectral density (SLQ), HESD type: {type}";
        Density(density, path, title, logScale, width, height);
    }

    /// <summary>Plots a spectral density on its grid; see <see cref="Density(MinimumReport, string, bool, int, int)"/>.</summary>
    /// <param name="density">Grid and density values.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="title">Figure title.</param>
    /// <param name="logScale">Log-scale y axis.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static void Density(DensitySection density, string path, string title, bool logScale = true, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(density);
        ArgumentNullException.ThrowIfNull(title);
        CheckOutput(path, width, height);
        if (density.Grid.Length < 2 || density.Grid.Length != density.Density.Length)
            throw new ArgumentException($"The density must have a grid of at least 2 points and one value per grid point but had {density.Grid.Length} grid points and {density.Density.Length} values; pass the SLQ report unchanged.", nameof(density));

        using var plot = NewPlot();
        var values = logScale ? ClampedLog10(density.Density) : density.Density;
        var line = plot.Add.ScatterLine(density.Grid, values, new ScottPlot.Palettes.Category10().GetColor(0));
        line.LineWidth = 2;
        line.LegendText = $"φ(t), σ² = {density.Variance.ToString("G3", CultureInfo.InvariantCulture)}";
        var zero = plot.Add.VerticalLine(0, 1, Colors.Gray, LinePattern.Dashed);
        zero.LegendText = "t = 0";
        if (logScale)
        {
            // The data are log10 values; label the ticks with the powers they stand for.
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                LabelFormatter = PowerOfTen,
            };
        }
        plot.Title(title);
        plot.XLabel("eigenvalue t");
        plot.YLabel(logScale ? "density φ(t) (log scale)" : "density φ(t)");
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path, width, height);
    }

    /// <summary>
    /// Draws the classifier's decision regions over the bounding box of 2-D inputs (the predictor is evaluated on a
    /// grid), the training points on top with their class as the marker shape and <paramref name="colourValues"/>
    /// (typically |A_1(x_j)| or |A_2(x_j)|) as the colour, and the margin construction of the decision-boundary paper:
    /// x_t^max and x_t^min (the most positively and negatively aligned inputs), the segment between them, x_b (the
    /// input optimised onto the boundary) and, when found, the point where the prediction flips on that segment.
    /// </summary>
    /// <param name="points">Inputs, each of length 2.</param>
    /// <param name="labels">Class label of each input, 0 … C−1.</param>
    /// <param name="colourValues">One value per input for the marker colour.</param>
    /// <param name="predict">Predicted class for each row of a batch of 2-D inputs.</param>
    /// <param name="margin">Margin diagnostics, or null to omit x_t^max/x_t^min.</param>
    /// <param name="boundaryPoint">x_b, or null to omit it.</param>
    /// <param name="title">Figure title.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="colourLabel">Label of the colour bar.</param>
    /// <param name="gridResolution">Grid cells per axis for the decision regions.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static void DecisionRegions(double[][] points, int[] labels, double[] colourValues, Func<double[][], int[]> predict,
        MarginSection? margin, double[]? boundaryPoint, string title, string path, string colourLabel = "|A_1(x)|",
        int gridResolution = 300, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(predict);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(colourLabel);
        CheckPoints(points, labels, colourValues);
        CheckOutput(path, width, height);
        if (gridResolution < 2)
            throw new ArgumentOutOfRangeException(nameof(gridResolution), gridResolution, "The grid resolution must be at least 2 cells per axis; pass e.g. 300.");
        if (boundaryPoint is { Length: not 2 })
            throw new ArgumentException($"The boundary point must be 2-D but had {boundaryPoint.Length} coordinates; pass x_b of a 2-D model or null.", nameof(boundaryPoint));

        var classes = Math.Max(labels.Max() + 1, 2);
        var box = BoundingBox(points, margin, boundaryPoint);
        var regions = PredictGrid(predict, box, gridResolution, ref classes);

        using var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        var heatmap = plot.Add.Heatmap(regions);
        heatmap.Extent = box;
        heatmap.Colormap = new CategoricalColormap(Enumerable.Range(0, classes).Select(c => palette.GetColor(c).Lighten(0.7)).ToArray());
        heatmap.ManualRange = new ScottPlot.Range(-0.5, classes - 0.5);
        heatmap.Smooth = true; // interpolates the rendered colours, so boundaries are not staircases

        var colormap = new ScottPlot.Colormaps.Viridis();
        var range = ColourRange(colourValues);
        for (var j = 0; j < points.Length; j++)
        {
            var marker = plot.Add.Marker(points[j][0], points[j][1], ClassShapes[labels[j] % ClassShapes.Length], 8,
                colormap.GetColor(range.Normalize(colourValues[j], clamp: true)));
            marker.MarkerLineColor = Colors.Black.WithAlpha(0.6);
            marker.MarkerLineWidth = 0.6f;
        }
        var colourBar = plot.Add.ColorBar(new ValueColorAxis(colormap, range), Edge.Right);
        colourBar.Label = colourLabel;

        var legend = new List<LegendItem>();
        for (var c = 0; c < classes; c++)
            legend.Add(MarkerItem($"class {c}", ClassShapes[c % ClassShapes.Length], 9, palette.GetColor(c).Lighten(0.7), Colors.Black));
        if (margin is not null)
            AddMarginMarks(plot, margin, legend);
        if (boundaryPoint is not null)
        {
            plot.Add.Marker(boundaryPoint[0], boundaryPoint[1], MarkerShape.FilledDiamond, 16, Colors.Black).MarkerLineColor = Colors.White;
            legend.Add(MarkerItem("x_b (on the boundary)", MarkerShape.FilledDiamond, 12, Colors.Black, Colors.White));
        }

        plot.Axes.SetLimits(box);
        plot.Title(title);
        plot.XLabel("x₁");
        plot.YLabel("x₂");
        plot.Legend.ManualItems.AddRange(legend);
        plot.Legend.DisplayPlottableLegendItems = false;
        plot.ShowLegend(Edge.Bottom).Legend.Orientation = Orientation.Horizontal;
        Save(plot, path, width, height);
    }

    /// <summary>|A_i(x_j)| for every input j: column <paramref name="eigenvector"/> of <see cref="MinimumReport.Alignment"/>, in absolute value.</summary>
    /// <param name="report">A report with alignment.</param>
    /// <param name="eigenvector">0-based eigenvector index i − 1.</param>
    /// <exception cref="ArgumentException">The report has no alignment or fewer eigenvectors.</exception>
    public static double[] AbsAlignment(MinimumReport report, int eigenvector)
    {
        ArgumentNullException.ThrowIfNull(report);
        var alignment = report.Alignment
            ?? throw new ArgumentException("The report must contain the alignment matrix but Alignment is null; request alignment in the analysis.", nameof(report));
        if (alignment.Length == 0 || eigenvector < 0 || eigenvector >= alignment[0].Length)
            throw new ArgumentOutOfRangeException(nameof(eigenvector), eigenvector,
                $"The eigenvector index must be in [0, {(alignment.Length == 0 ? 0 : alignment[0].Length)}) for this report; pick one of the computed eigenvectors.");
        return alignment.Select(row => Math.Abs(row[eigenvector])).ToArray();
    }

    private static void AddMarginMarks(Plot plot, MarginSection margin, List<LegendItem> legend)
    {
        var max = margin.NearestMaxPoint;
        var min = margin.NearestMinPoint;
        if (max.Length != 2 || min.Length != 2)
            throw new ArgumentException($"The margin points must be 2-D but had {max.Length} and {min.Length} coordinates; plot decision regions only for 2-D models.", nameof(margin));
        var segment = plot.Add.Line(max[0], max[1], min[0], min[1]);
        segment.LineColor = Colors.Black.WithAlpha(0.7);
        segment.LinePattern = LinePattern.Dashed;
        segment.LineWidth = 1.5f;
        var red = Color.FromHex("#d62728");
        var blue = Color.FromHex("#1f3b99");
        AddCross(plot, max, red);
        AddCross(plot, min, blue);
        legend.Add(MarkerItem("x_t^max (largest A_1)", MarkerShape.Cross, 14, red, red, lineWidth: 3));
        legend.Add(MarkerItem("x_t^min (smallest A_1)", MarkerShape.Cross, 14, blue, blue, lineWidth: 3));
        if (margin.BisectionPoint is { Length: 2 } bisection)
        {
            var mark = plot.Add.Marker(bisection[0], bisection[1], MarkerShape.OpenCircle, 14, Colors.Black);
            mark.MarkerLineWidth = 2;
            legend.Add(MarkerItem("class change on segment", MarkerShape.OpenCircle, 11, Colors.Black, Colors.Black, lineWidth: 2));
        }
    }

    private static void AddCross(Plot plot, double[] point, Color color)
    {
        // A white halo under the cross keeps it readable on any background.
        var halo = plot.Add.Marker(point[0], point[1], MarkerShape.Cross, 20, Colors.White);
        halo.MarkerLineWidth = 6;
        var cross = plot.Add.Marker(point[0], point[1], MarkerShape.Cross, 18, color);
        cross.MarkerLineWidth = 3;
    }

    private static LegendItem MarkerItem(string label, MarkerShape shape, float size, Color fill, Color line, float lineWidth = 1) => new()
    {
        LabelText = label,
        MarkerShape = shape,
        MarkerSize = size,
        MarkerFillColor = fill,
        MarkerLineColor = line,
        MarkerLineWidth = lineWidth,
        LineWidth = 0,
    };

    private static double[,] PredictGrid(Func<double[][], int[]> predict, CoordinateRect box, int resolution, ref int classes)
    {
        var dx = (box.Right - box.Left) / resolution;
        var dy = (box.Top - box.Bottom) / resolution;
        var grid = new double[resolution * resolution][];
        for (var r = 0; r < resolution; r++)
        for (var c = 0; c < resolution; c++)
            grid[r * resolution + c] = [box.Left + (c + 0.5) * dx, box.Top - (r + 0.5) * dy]; // row 0 is drawn at the top
        var predicted = predict(grid)
            ?? throw new InvalidOperationException("The predictor returned null; it must return one class index per input row.");
        if (predicted.Length != grid.Length)
            throw new InvalidOperationException($"The predictor must return one class per input row ({grid.Length}) but returned {predicted.Length}; check its batching.");
        var regions = new double[resolution, resolution];
        for (var i = 0; i < predicted.Length; i++)
        {
            if (predicted[i] < 0)
                throw new InvalidOperationException($"The predictor returned class {predicted[i]}; classes must be 0 … C−1.");
            classes = Math.Max(classes, predicted[i] + 1);
            regions[i / resolution, i % resolution] = predicted[i];
        }
        return regions;
    }

    private static CoordinateRect BoundingBox(double[][] points, MarginSection? margin, double[]? boundaryPoint)
    {
        var all = points.AsEnumerable();
        if (boundaryPoint is not null)
            all = all.Append(boundaryPoint);
        if (margin is not null)
            all = all.Append(margin.NearestMaxPoint).Append(margin.NearestMinPoint);
        var xs = all.Select(p => p[0]).ToArray();
        var ys = all.Select(p => p[1]).ToArray();
        var (left, right) = Pad(xs.Min(), xs.Max());
        var (bottom, top) = Pad(ys.Min(), ys.Max());
        return new CoordinateRect(left, right, bottom, top);
    }

    private static (double Low, double High) Pad(double low, double high)
    {
        var span = high - low;
        var pad = span > 0 ? 0.08 * span : 1;
        return (low - pad, high + pad);
    }

    private static ScottPlot.Range ColourRange(double[] values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
            return new ScottPlot.Range(0, 1);
        var (low, high) = (finite.Min(), finite.Max());
        if (high > low)
            return new ScottPlot.Range(low, high);
        // All values equal: any unit-wide range around them, kept non-negative for non-negative values such as |A_i|.
        var start = low >= 0 ? Math.Max(0, low - 0.5) : low - 0.5;
        return new ScottPlot.Range(start, start + 1);
    }

    private static string PowerOfTen(double exponent)
    {
        const string superscripts = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var digits = Math.Abs(Math.Round(exponent)).ToString("0", CultureInfo.InvariantCulture).Select(d => superscripts[d - '0']);
        return "10" + (exponent < -0.5 ? "⁻" : string.Empty) + string.Concat(digits);
    }

    private static double[] ClampedLog10(double[] density)
    {
        var peak = density.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var floor = peak > 0 ? peak * 1e-6 : 1e-12;
        return density.Select(d => Math.Log10(double.IsFinite(d) ? Math.Max(d, floor) : floor)).ToArray();
    }

    private static Plot EigenvaluePanel(double[] values, Color color, MarkerShape shape, string symbol, string title, string size,
        (double Lower, double Upper, string Name)? bounds, Color boundColor)
    {
        var plot = NewPlot();
        var series = plot.Add.Scatter(Indices(values.Length), values, color);
        series.MarkerSize = 7;
        series.MarkerShape = shape;
        series.LegendText = symbol;

        var low = values.Where(double.IsFinite).DefaultIfEmpty(0).Min();
        var high = values.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var span = high > low ? high - low : Math.Max(Math.Abs(high), 1e-12);
        // A bound within one eigenvalue span of the data widens the axes; a farther one stays beyond them.
        var (shownLow, shownHigh) = (low, high);
        if (bounds is { } b)
        {
            var finite = new[] { b.Lower, b.Upper }.Where(double.IsFinite).ToArray();
            var near = finite.Where(bound => bound >= low - span && bound <= high + span).ToArray();
            foreach (var bound in near)
                (shownLow, shownHigh) = (Math.Min(shownLow, bound), Math.Max(shownHigh, bound));
            var legend = $"WS bounds on {b.Name}: [{Format(b.Lower)}, {Format(b.Upper)}]";
            foreach (var bound in finite)
            {
                plot.Add.HorizontalLine(bound, 1.5f, boundColor, LinePattern.Dashed).LegendText = legend;
                legend = string.Empty; // one legend entry for the pair
            }
            foreach (var bound in finite.Except(near))
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"({Format(bound)} lies beyond the axes)", LineWidth = 0 });
        }
        var pad = 0.08 * (shownHigh > shownLow ? shownHigh - shownLow : span);
        plot.Axes.SetLimitsY(shownLow - pad, shownHigh + pad);
        plot.Axes.SetLimitsX(0.5, values.Length + 0.5);

        plot.Title(title);
        plot.XLabel($"index i ({size})");
        plot.YLabel("eigenvalue");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        // Below the axes, so a long bounds entry never hides a point.
        var legendPanel = plot.ShowLegend(Edge.Bottom);
        legendPanel.Legend.Orientation = Orientation.Vertical;
        return plot;
    }

    private static string Format(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    private static double[] Indices(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToArray();

    private static void CheckPoints(double[][] points, int[] labels, double[] colourValues)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(colourValues);
        if (points.Length == 0)
            throw new ArgumentException("There must be at least one point but there were none; pass the training inputs.", nameof(points));
        if (labels.Length != points.Length || colourValues.Length != points.Length)
            throw new ArgumentException($"There must be one label and one colour value per point ({points.Length}) but there were {labels.Length} labels and {colourValues.Length} colour values; pass arrays in data order.", nameof(labels));
        var bad = Array.FindIndex(points, p => p is null || p.Length != 2);
        if (bad >= 0)
            throw new ArgumentException($"Decision regions need 2-D inputs but point {bad} has {points[bad]?.Length ?? 0} coordinates; plot only 2-D data sets.", nameof(points));
        if (labels.Any(l => l < 0))
            throw new ArgumentException("Labels must be class indices ≥ 0; pass 0 … C−1.", nameof(labels));
    }

    internal static void CheckOutput(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"The image must be at least 100×100 pixels but was {width}×{height}; pass a larger size.");
    }

    internal static void Save(Plot plot, string path, int width, int height)
    {
        PrepareFolder(path);
        plot.SavePng(path, width, height);
    }

    private static void PrepareFolder(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
    }

    private static readonly string[] SansFonts = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"];

    /// <summary>A plot in a sans-serif font that has the Greek and sub/superscript glyphs the labels use, where one is installed.</summary>
    internal static Plot NewPlot()
    {
        var plot = new Plot();
        var font = SansFonts.FirstOrDefault(name => ScottPlot.Fonts.GetTypeface(name, bold: false, italic: false) is { } face && face.FamilyName == name);
        if (font is not null)
            plot.Font.Set(font);
        else
            plot.Font.Automatic();
        return plot;
    }
}
