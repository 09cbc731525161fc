using System.Text.Json;
using HessianGeometry.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

public sealed class MinimumReportJsonTests
{
    [Fact]
    public void FullReport_RoundTripsThroughJson()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).BottomEigenpairs(1).WithTrace()
            .WithSpectralDensity(new HessianGeometry.Spectrum.SpectralDensityOptions { GridPoints = 100 }).WithAlignment().WithBoundaryComplexity().WithMargin()
            .WithLabel("epoch 7").AnalyzeMinimum();
        var json = MinimumReportJson.Serialize(report);
        var back = MinimumReportJson.Deserialize(json);
        Assert.Equal(json, MinimumReportJson.Serialize(back));
        Assert.Equal(report.Eigenvalues, back.Eigenvalues);
        Assert.Equal(report.Margin, back.Margin);
        Assert.Equal(report.Alignment!.Length, back.Alignment!.Length);
        Assert.Equal(report.Settings, back.Settings);
    }

    [Fact]
    public void Json_UsesTheStableCamelCaseFieldNames()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).BottomEigenpairs(1).WithTrace()
            .WithSpectralDensity(new HessianGeometry.Spectrum.SpectralDensityOptions { GridPoints = 50 }).WithAlignment().WithBoundaryComplexity().WithMargin().AnalyzeMinimum();
        using var doc = JsonDocument.Parse(MinimumReportJson.Serialize(report));
        string[] required =
        [
            "schemaVersion", "parameters", "samples", "loss", "accuracy", "eigenvalues", "residualNorms", "hvpCount", "bottomEigenvalues",
            "trace", "traceStandardError", "wolkowiczStyan", "hesdType", "alignment", "meanAbsAlignment", "maxAbsAlignment", "epsilon",
            "complexityMean", "complexityMax", "encodingEigenvectors", "margin", "boundaryPoint",
        ];
        foreach (var name in required)
            Assert.True(doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null, $"missing field '{name}'");
        Assert.Equal(MinimumReport.CurrentSchemaVersion, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(report.Samples, doc.RootElement.GetProperty("alignment").GetArrayLength());
    }

    [Fact]
    public void Deserialize_RefusesANewerSchema()
    {
        var json = MinimumReportJson.Serialize(new MinimumReport { SchemaVersion = MinimumReport.CurrentSchemaVersion + 1 });
        var ex = Assert.Throws<NotSupportedException>(() => MinimumReportJson.Deserialize(json));
        Assert.Contains("Upgrade", ex.Message, StringComparison.Ordinal);
    }
}
