using HessianGeometry.Analysis;
using HessianGeometry.Plotting;

namespace HessianGeometry.Cli.Tests.Plotting;

public sealed class ReportPlotsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Spectrum_WithTopBottomAndBounds_WritesAFullSizePngWithManyColours()
    {
        var path = folder.File("spectrum.png");
        ReportPlots.Spectrum(SampleReports.Full(), path);
        AssertNonTrivialPng(path, ReportPlots.DefaultWidth, ReportPlots.DefaultHeight);
    }

    [Fact]
    public void Spectrum_WithTopEigenvaluesOnly_Renders()
    {
        var path = folder.File("sub/dir/spectrum-top.png");
        ReportPlots.Spectrum(new MinimumReport { Model = new ModelSection { Parameters = 50 }, TopEigenpairs = new EigenpairsSection { Eigenvalues = [3, 2, 1] } }, path, 640, 480);
        AssertNonTrivialPng(path, 640, 480);
    }

    [Fact]
    public void Spectrum_WithoutEigenvalues_ThrowsArgumentExceptionNamingTheFix()
    {
        var error = Assert.Throws<ArgumentException>(() => ReportPlots.Spectrum(new MinimumReport(), folder.File("none.png")));
        Assert.Contains("request top or bottom eigenpairs", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("none.png")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Density_OnLogOrLinearScale_WritesANonTrivialPng(bool logScale)
    {
        var path = folder.File($"density-{logScale}.png");
        ReportPlots.Density(SampleReports.Full(), path, logScale);
        AssertNonTrivialPng(path, ReportPlots.DefaultWidth, ReportPlots.DefaultHeight);
    }

    [Fact]
    public void Density_WithExactZeros_ClampsThemOnTheLogScale()
    {
        var grid = Enumerable.Range(0, 50).Select(i => i * 0.1).ToArray();
        var values = grid.Select(t => t < 2 ? 0.0 : Math.Exp(-t)).ToArray();
        var path = folder.File("density-zeros.png");
        ReportPlots.Density(new DensitySection { Grid = grid, Density = values, Variance = 0.01 }, path, "zeros", logScale: true);
        AssertNonTrivialPng(path, ReportPlots.DefaultWidth, ReportPlots.DefaultHeight);
    }

    [Fact]
    public void Density_WithoutDensity_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => ReportPlots.Density(new MinimumReport(), folder.File("d.png")));

    [Fact]
    public void DecisionRegions_PaintsEveryPredictedClassRegion()
    {
        var report = SampleReports.Full();
        var (points, labels) = SampleReports.Clusters();
        var path = folder.File("regions-a1.png");
        ReportPlots.DecisionRegions(points, labels, ReportPlots.AbsAlignment(report, 0), SampleReports.NearestCentre,
            report.MarginDetails, report.BoundaryPoint, "gauss3: |A_1|", path);

        AssertNonTrivialPng(path, ReportPlots.DefaultWidth, ReportPlots.DefaultHeight);
        // Each class region is drawn in its Category10 colour lightened by 70 %; all three must cover a real area.
        var palette = new ScottPlot.Palettes.Category10();
        for (var c = 0; c < 3; c++)
        {
            var colour = palette.GetColor(c).Lighten(0.7);
            Assert.True(PngImage.Fraction(path, colour.R, colour.G, colour.B) > 0.05, $"class {c} region covers too little of the image");
        }
    }

    [Fact]
    public void DecisionRegions_WithoutMarginOrBoundaryPoint_Renders()
    {
        var (points, labels) = SampleReports.Clusters();
        var path = folder.File("regions-plain.png");
        ReportPlots.DecisionRegions(points, labels, new double[points.Length], SampleReports.NearestCentre, null, null, "plain", path, "|A_2(x)|");
        AssertNonTrivialPng(path, ReportPlots.DefaultWidth, ReportPlots.DefaultHeight);
    }

    [Fact]
    public void DecisionRegions_Of3DInputs_ThrowsArgumentException()
    {
        double[][] points = [[1, 2, 3]];
        Assert.Throws<ArgumentException>(() => ReportPlots.DecisionRegions(points, [0], [0.5], b => new int[b.Length], null, null, "t", folder.File("x.png")));
    }

    [Fact]
    public void DecisionRegions_WithMismatchedLengths_ThrowsArgumentException()
    {
        double[][] points = [[1, 2], [3, 4]];
        Assert.Throws<ArgumentException>(() => ReportPlots.DecisionRegions(points, [0], [0.5, 0.1], b => new int[b.Length], null, null, "t", folder.File("x.png")));
    }

    [Fact]
    public void DecisionRegions_WhenThePredictorReturnsTheWrongCount_ThrowsInvalidOperation()
    {
        var (points, labels) = SampleReports.Clusters();
        Assert.Throws<InvalidOperationException>(() => ReportPlots.DecisionRegions(points, labels, new double[points.Length], _ => [0], null, null, "t", folder.File("x.png")));
    }

    [Fact]
    public void AbsAlignment_ReturnsTheAbsoluteColumnOfTheAlignmentMatrix()
    {
        var report = SampleReports.Full();
        var column = ReportPlots.AbsAlignment(report, 1);
        Assert.Equal(report.Alignment!.Length, column.Length);
        for (var j = 0; j < column.Length; j++)
            Assert.Equal(Math.Abs(report.Alignment[j][1]), column[j]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReportPlots.AbsAlignment(report, 5));
        Assert.Throws<ArgumentException>(() => ReportPlots.AbsAlignment(new MinimumReport(), 0));
    }

    private static void AssertNonTrivialPng(string path, int width, int height)
    {
        Assert.True(File.Exists(path), $"{path} was not written.");
        var (w, h) = PngImage.Dimensions(path);
        Assert.Equal((width, height), (w, h));
        Assert.True(w >= 400 && h >= 300);
        Assert.True(PngImage.DistinctColours(path) > 10, "the image has 10 colours or fewer: nothing was drawn");
    }
}
