using HessianGeometry.Analysis;
using HessianGeometry.Plotting;

namespace HessianGeometry.Cli.Tests.Plotting;

public sealed class LayerPlotsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Traces_WithErrorBarsAndNegativeTraces_WritesAFullSizePng()
    {
        var report = new MinimumReport
        {
            Layers =
            [
                new LayerSection { Name = "features.0", Parameters = 448, Trace = 12.5, TraceStandardError = 0.8 },
                new LayerSection { Name = "features.3", Parameters = 4640, Trace = -1.5, TraceStandardError = 0.4 },
                new LayerSection { Name = "classifier", Parameters = 330, Trace = 30, TraceStandardError = 1.1 },
            ],
        };
        var path = folder.File("sub/layer-traces.png");
        LayerPlots.Traces(report, path);
        Assert.Equal((ReportPlots.DefaultWidth, ReportPlots.DefaultHeight), PngImage.Dimensions(path));
        Assert.True(PngImage.DistinctColours(path) > 10, "nothing was drawn");
    }

    [Fact]
    public void Traces_WithoutLayers_ThrowsNamingTheFix()
    {
        var ex = Assert.Throws<ArgumentException>(() => LayerPlots.Traces(new MinimumReport(), folder.File("x.png")));
        Assert.Contains("--per-layer", ex.Message, StringComparison.Ordinal);
    }
}
