using HessianGeometry.Analysis;
using HessianGeometry.Cli.Reporting;
using HessianGeometry.Plotting;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>Writes report.json, report.md and the PNG plots into the output folder.</summary>
internal static class ReportWriter
{
    /// <remarks>
    /// The decision-region plots need 2-D inputs (a plane to colour); for any other input shape, such as images or
    /// sequences, they are skipped and the alignment values are in report.json and report.md only. So are they when the
    /// inputs are not on this machine (<paramref name="x"/> null: <c>analyze --cluster</c>, the workers hold the data).
    /// </remarks>
    public static IReadOnlyList<string> Write(MinimumReport report, string outDir, nn.Module<Tensor, Tensor> model, Tensor? x, Tensor? y,
        IReadOnlyList<string>? notes = null)
    {
        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        void Add(string name) => written.Add(Path.Combine(outDir, name));

        File.WriteAllText(Path.Combine(outDir, "report.json"), MinimumReportJson.Serialize(report));
        Add("report.json");
        File.WriteAllText(Path.Combine(outDir, "report.md"), MarkdownReport.Write(report, notes ?? []));
        Add("report.md");
        if (report.Eigenvalues is { Length: > 0 } || report.BottomEigenvalues is { Length: > 0 })
        {
            ReportPlots.Spectrum(report, Path.Combine(outDir, "spectrum.png"));
            Add("spectrum.png");
        }
        if (report.Decomposition is { HessianEigenvalues.Length: > 0 } decomposition)
        {
            DecompositionPlots.Spectra(decomposition, Path.Combine(outDir, "decomposition.png"));
            Add("decomposition.png");
        }
        if (report.SpectralDensity is not null)
        {
            ReportPlots.Density(report, Path.Combine(outDir, "density.png"));
            Add("density.png");
        }
        if (report.Layers is { Count: > 0 })
        {
            LayerPlots.Traces(report, Path.Combine(outDir, "layer-traces.png"));
            Add("layer-traces.png");
        }
        if (report.Diagonal?.File is { } diagonalFile)
            Add(diagonalFile);
        if (x is not null && y is not null && x.dim() == 2 && x.shape[1] == 2 && report.Alignment is { Length: > 0 } alignment)
        {
            var points = Rows(x);
            var labels = y.to(ScalarType.Int64).data<long>().Select(v => (int)v).ToArray();
            var predict = Training.ModelPredictor.Classifier(model);
            var columns = Math.Min(2, alignment[0].Length);
            for (var i = 0; i < columns; i++)
            {
                var name = $"alignment-v{i + 1}.png";
                ReportPlots.DecisionRegions(points, labels, ReportPlots.AbsAlignment(report, i), predict,
                    i == 0 ? report.MarginDetails : null, i == 0 ? report.BoundaryPoint : null,
                    $"Decision regions, training points coloured by |A_{i + 1}(x)|", Path.Combine(outDir, name), $"|A_{i + 1}(x)|");
                Add(name);
            }
        }
        if (x is not null && y is not null && x.dim() == 2 && x.shape[1] == 2 && report.SampleMargins is not null)
            SampleMarginPlots(report, outDir, model, x, y, Add);
        return written;
    }

    /// <summary>margins.png (inputs coloured by their margin) and boundary-points.png (boundary points coloured by curvature or pieces).</summary>
    private static void SampleMarginPlots(MinimumReport report, string outDir, nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Action<string> add)
    {
        var points = Rows(x);
        var labels = y.to(ScalarType.Int64).data<long>().Select(v => (int)v).ToArray();
        var predict = Training.ModelPredictor.Classifier(model);
        ReportPlots.SampleMargins(points, labels, report, predict, Path.Combine(outDir, "margins.png"));
        add("margins.png");
        if (report.SampleMarginDetails?.BoundaryPoints is not null)
        {
            ReportPlots.BoundaryPoints(points, labels, report, predict, Path.Combine(outDir, "boundary-points.png"));
            add("boundary-points.png");
        }
    }

    private static double[][] Rows(Tensor x)
    {
        var cpu = x.to(ScalarType.Float64).cpu().contiguous();
        var d = (int)cpu.shape[1];
        var flat = cpu.data<double>().ToArray();
        return Enumerable.Range(0, (int)cpu.shape[0]).Select(i => flat.AsSpan(i * d, d).ToArray()).ToArray();
    }
}
