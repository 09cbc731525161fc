using HessianGeometry.Analysis;
using HessianGeometry.Geometry;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>
/// <c>WithSampleMargins()</c> end to end: the report's per-sample margins, classes, Spearman correlation (recomputed
/// here from the report's own alignment rows) and boundary curvature, for a smooth (tanh) and a ReLU network.
/// </summary>
public sealed class SampleMarginAnalysisTests
{
    [Fact]
    public void TanhNetwork_ReportsMarginsCorrelationAndCurvature_AndSurvivesJson()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([2, 8, 3], "tanh", 4);
        var (x, y) = TinyModels.Blobs(30, 2, 3, 4);
        TinyTraining.CrossEntropyAdam(model, x, y, 200, 0.05);
        model.eval();
        var before = model.parameters().Select(p => p.detach().clone()).ToList();

        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).WithSampleMargins().Seed(2).AnalyzeMinimum();

        Assert.Equal(30, report.SampleMargins!.Length);
        Assert.Equal(30, report.SampleMarginClasses!.Length);
        var details = report.SampleMarginDetails!;
        Assert.Equal(details.Failures, report.SampleMargins.Count(m => m is null));
        Assert.Equal(details.Failures, details.FailedInputs.Length);
        var maxAbs = report.Alignment!.Select(row => row.Max(Math.Abs)).ToArray();
        for (var i = 0; i < 30; i++)
            Assert.Equal(maxAbs[i], details.MaxAbsAlignment[i], 1e-15);
        var margins = report.SampleMargins.Select(m => m ?? double.NaN).ToArray();
        Assert.Equal(SpearmanCorrelation.Compute(margins, maxAbs), report.MarginAlignmentCorrelation);
        Assert.NotNull(report.MarginAlignmentCorrelation);
        Assert.Equal(3, details.CorrelationPerEigenvector.Length);
        for (var i = 0; i < 3; i++)
            Assert.Equal(SpearmanCorrelation.Compute(margins, report.Alignment!.Select(row => Math.Abs(row[i])).ToArray()), details.CorrelationPerEigenvector[i]);

        var curvature = report.BoundaryCurvature!;
        Assert.Equal("sampleBoundaryPoint", curvature.At);
        Assert.False(curvature.PiecewiseLinear);
        Assert.Single(curvature.Principal!);
        Assert.Equal(curvature.Principal![0], curvature.Mean!.Value, 1e-12);
        Assert.Equal("dense", details.CurvatureMethod);
        Assert.Equal(30 - details.Failures, details.MeanCurvatures!.Count(v => v is not null));
        Assert.Equal(report.SampleMargins.Where(m => m is not null).Min(), report.SampleMargins[curvature.InputIndex!.Value]);

        var json = MinimumReportJson.Serialize(report);
        foreach (var field in new[] { "\"sampleMargins\"", "\"sampleMarginClasses\"", "\"marginAlignmentCorrelation\"", "\"boundaryCurvature\"", "\"principal\"", "\"mean\"" })
            Assert.Contains(field, json);
        var back = MinimumReportJson.Deserialize(json);
        Assert.Equal(report.SampleMargins, back.SampleMargins);
        Assert.Equal(report.MarginAlignmentCorrelation, back.MarginAlignmentCorrelation);
        Assert.Equal(curvature.Principal, back.BoundaryCurvature!.Principal);

        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
            Assert.True(before[i].eq(after[i]).all().item<bool>(), $"parameter {i} changed");

        var again = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).WithSampleMargins().Seed(2).AnalyzeMinimum();
        Assert.Equal(report.SampleMargins, again.SampleMargins);
        Assert.Equal(report.BoundaryCurvature!.Principal, again.BoundaryCurvature!.Principal);
    }

    [Fact]
    public void ReluNetwork_WithMargin_ReportsThePiecewiseLinearNoteAndPiecesAtTheMarginPoint()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([2, 10, 10, 2], "relu", 6);
        var (x, y) = TinyModels.Blobs(24, 2, 2, 6);
        TinyTraining.CrossEntropyAdam(model, x, y, 200, 0.05);
        model.eval();

        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).WithMargin().WithSampleMargins().Seed(1).AnalyzeMinimum();

        var curvature = report.BoundaryCurvature!;
        Assert.True(curvature.PiecewiseLinear);
        Assert.Null(curvature.Principal);
        Assert.Null(curvature.Mean);
        Assert.Contains("piecewise linear", curvature.Note);
        Assert.True(curvature.PiecesCrossed >= 1);
        Assert.Equal(report.MarginDetails!.OnBoundary ? "marginPoint" : "sampleBoundaryPoint", curvature.At);
        var details = report.SampleMarginDetails!;
        Assert.Null(details.MeanCurvatures);
        Assert.Contains("piecewise linear", details.CurvatureNote);
        Assert.All(Enumerable.Range(0, 24).Where(i => report.SampleMargins![i] is not null), i => Assert.True(details.PiecesCrossed![i] >= 1));
        Assert.Equal(24, details.BoundaryPoints!.Length);
    }

    [Fact]
    public void IntegerInputs_AreRefusedAtBuild()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([2, 4, 2], "tanh", 1);
        var x = ones(4, 2, dtype: ScalarType.Int64);
        var error = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(x, zeros(4, dtype: ScalarType.Int64)).TopEigenpairs(2).WithSampleMargins().Build());
        Assert.Contains("floating point", error.Message);
    }
}
