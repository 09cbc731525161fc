using System.Text.Json;
using HessianGeometry.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

public sealed class MinimumReportJsonTests
{
    /// <summary>The Hutchinson estimator even on this one-hidden-layer model, whose traces would otherwise be exact in closed form.</summary>
    private static readonly HessianGeometry.Spectrum.TraceOptions Estimated = new() { ClosedForm = false };

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
        Assert.Equal(report.Options, back.Options);
        Assert.Equal(report.Model, back.Model);
        Assert.Equal(report.TopEigenpairs!.RelativeResiduals, back.TopEigenpairs!.RelativeResiduals);
        Assert.Equal(report.BottomEigenpairs!.ConvergedPairs, back.BottomEigenpairs!.ConvergedPairs);
        Assert.Equal(report.Traces, back.Traces);
        Assert.Equal(report.WolkowiczStyan, back.WolkowiczStyan);
        Assert.Equal(report.Timings.Stages, back.Timings.Stages);
        Assert.Equal(report.HvpCounts, back.HvpCounts);
        Assert.Equal(report.MarginDetails!.BoundaryPoint, back.MarginDetails!.BoundaryPoint);
        Assert.Equal(report.Complexity!.EncodingEigenvectors, back.Complexity!.EncodingEigenvectors);
        Assert.Equal(report.Label, back.Label);
    }

    /// <summary>
    /// Every field of the schema-1 table in docs/report-format.md is still at the top level of report.json, with its old
    /// name, JSON type and meaning (checked against the sections it is derived from).
    /// </summary>
    [Fact]
    public void Json_KeepsEverySchema1Field_AtTheTopLevel_WithItsOldMeaning()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).BottomEigenpairs(2).WithTrace(Estimated)
            .WithSpectralDensity(new HessianGeometry.Spectrum.SpectralDensityOptions { GridPoints = 60 }).WithAlignment().WithBoundaryComplexity().WithMargin()
            .Seed(13).WithLabel("epoch 3").AnalyzeMinimum();
        using var doc = JsonDocument.Parse(MinimumReportJson.Serialize(report));
        var root = doc.RootElement;
        string[] schema1 =
        [
            "schemaVersion", "parameters", "samples", "lossFunction", "loss", "accuracy", "precision", "settings", "solver", "eigenvalues",
            "residualNorms", "eigenpairsConverged", "bottomEigenvalues", "bottomResidualNorms", "trace", "traceStandardError", "traceMethod",
            "traceOfSquare", "traceOfSquareStandardError", "wolkowiczStyan", "hesdType", "hesd", "spectralDensity", "alignment",
            "meanAbsAlignment", "maxAbsAlignment", "epsilon", "complexityMean", "complexityMax", "complexity", "encodingEigenvectors", "margin",
            "boundaryPoint", "marginDetails", "hvpCounts", "hvpCount", "timingsSeconds", "libraryVersion", "label",
        ];
        foreach (var name in schema1)
            Assert.True(root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null, $"missing schema-1 field '{name}'");

        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(51, root.GetProperty("parameters").GetInt64());
        Assert.Equal(90, root.GetProperty("samples").GetInt64());
        Assert.Equal("cross-entropy", root.GetProperty("lossFunction").GetString());
        Assert.Equal(report.Model!.Loss, root.GetProperty("loss").GetDouble());
        Assert.Equal(report.Model.Accuracy, root.GetProperty("accuracy").GetDouble());
        Assert.Equal("Float64", root.GetProperty("precision").GetString());
        var settings = root.GetProperty("settings");
        Assert.Equal(13, settings.GetProperty("seed").GetInt64());
        Assert.Equal("lanczos", settings.GetProperty("solver").GetString());
        Assert.Equal(3, settings.GetProperty("topEigenpairs").GetInt32());
        Assert.Equal(2, settings.GetProperty("bottomEigenpairs").GetInt32());
        Assert.True(settings.GetProperty("trace").GetBoolean());
        Assert.False(settings.GetProperty("exactHessian").GetBoolean());
        Assert.Equal(report.Model.HvpEngine, settings.GetProperty("hvpEngine").GetString());
        Assert.Equal("lanczos", root.GetProperty("solver").GetString());
        Assert.Equal(report.TopEigenpairs!.Eigenvalues, Doubles(root.GetProperty("eigenvalues")));
        var descending = Doubles(root.GetProperty("eigenvalues"));
        Assert.True(descending.Zip(descending.Skip(1)).All(pair => pair.First >= pair.Second), "eigenvalues must be descending");
        Assert.Equal(report.TopEigenpairs.ResidualNorms, Doubles(root.GetProperty("residualNorms")));
        Assert.Equal(report.TopEigenpairs.Converged, root.GetProperty("eigenpairsConverged").GetBoolean());
        var ascending = Doubles(root.GetProperty("bottomEigenvalues"));
        Assert.True(ascending[0] <= ascending[1], "bottom eigenvalues must be ascending");
        Assert.Equal(report.BottomEigenpairs!.ResidualNorms, Doubles(root.GetProperty("bottomResidualNorms")));
        Assert.Equal(report.Traces!.Trace, root.GetProperty("trace").GetDouble());
        Assert.Equal(report.Traces.TraceStandardError, root.GetProperty("traceStandardError").GetDouble());
        Assert.Equal("hutchinson", root.GetProperty("traceMethod").GetString());
        Assert.Equal(report.Traces.TraceOfSquare, root.GetProperty("traceOfSquare").GetDouble());
        Assert.Equal(report.Traces.TraceOfSquareStandardError, root.GetProperty("traceOfSquareStandardError").GetDouble());
        foreach (var field in new[] { "mean", "standardDeviation", "lambdaMaxLower", "lambdaMaxUpper", "lambdaMinLower", "lambdaMinUpper", "fromEstimates" })
            Assert.True(root.GetProperty("wolkowiczStyan").TryGetProperty(field, out _), $"wolkowiczStyan.{field}");
        Assert.Contains(root.GetProperty("hesdType").GetString(), new[] { "MainlyPositive", "MainlyNegative", "QuasiSingular" });
        foreach (var field in new[] { "type", "ct", "kh05", "nearZeroMass" })
            Assert.True(root.GetProperty("hesd").TryGetProperty(field, out _), $"hesd.{field}");
        var density = root.GetProperty("spectralDensity");
        Assert.Equal(60, density.GetProperty("grid").GetArrayLength());
        Assert.Equal(60, density.GetProperty("density").GetArrayLength());
        Assert.Equal(3, density.GetProperty("nodes").GetArrayLength());
        Assert.Equal(3, density.GetProperty("weights").GetArrayLength());
        Assert.True(density.GetProperty("variance").GetDouble() > 0);
        var alignment = root.GetProperty("alignment");
        Assert.Equal(90, alignment.GetArrayLength());
        Assert.Equal(3, alignment[0].GetArrayLength());
        var mean = Doubles(root.GetProperty("meanAbsAlignment"));
        var firstColumn = Enumerable.Range(0, 90).Select(j => Math.Abs(alignment[j][0].GetDouble())).Average();
        Assert.Equal(firstColumn, mean[0], 12);
        Assert.Equal(3, root.GetProperty("maxAbsAlignment").GetArrayLength());
        foreach (var field in new[] { "mean", "max", "method", "directions", "seed" })
            Assert.True(root.GetProperty("epsilon").TryGetProperty(field, out _), $"epsilon.{field}");
        Assert.Equal("random-baseline", root.GetProperty("epsilon").GetProperty("method").GetString());
        var complexity = root.GetProperty("complexity");
        Assert.Equal(complexity.GetProperty("encodingCountMean").GetInt32() / 51.0, root.GetProperty("complexityMean").GetDouble(), 12);
        Assert.Equal(complexity.GetProperty("encodingCountMax").GetInt32() / 51.0, root.GetProperty("complexityMax").GetDouble(), 12);
        Assert.Equal(3, complexity.GetProperty("eigenvectorsConsidered").GetInt32());
        Assert.True(complexity.GetProperty("isLowerBound").GetBoolean());
        Assert.Equal(complexity.GetProperty("encodingCountMean").GetInt32(), root.GetProperty("encodingEigenvectors").GetArrayLength());
        Assert.Equal(report.MarginDetails!.Margin, root.GetProperty("margin").GetDouble());
        Assert.Equal(2, root.GetProperty("boundaryPoint").GetArrayLength());
        foreach (var field in new[] { "nearestMaxIndex", "nearestMinIndex", "nearestMaxPoint", "nearestMinPoint", "finalAbsAlignment", "logitGap", "steps", "bisectionPoint", "distanceToBisectionPoint" })
            Assert.True(root.GetProperty("marginDetails").TryGetProperty(field, out _), $"marginDetails.{field}");
        var hvpCounts = root.GetProperty("hvpCounts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(root.GetProperty("hvpCount").GetInt64(), hvpCounts.Values.Sum());
        Assert.Equal(report.TopEigenpairs.OperatorApplications, hvpCounts["eigenpairs"]);
        var timings = root.GetProperty("timingsSeconds").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["loss", "eigenpairs", "bottom-eigenpairs", "trace", "density", "alignment", "complexity", "margin"], timings);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("libraryVersion").GetString()));
        Assert.Equal("epoch 3", root.GetProperty("label").GetString());
    }

    [Fact]
    public void Json_HasTheSections_AndTheOptions()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).WithTrace(Estimated).AnalyzeMinimum();
        using var doc = JsonDocument.Parse(MinimumReportJson.Serialize(report));
        var root = doc.RootElement;
        foreach (var name in new[] { "model", "topEigenpairs", "traces", "wolkowiczStyan", "timings", "options", "budgetWarnings" })
            Assert.True(root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null, $"missing section '{name}'");
        var top = root.GetProperty("topEigenpairs");
        foreach (var name in new[] { "solver", "which", "eigenvalues", "residualNorms", "relativeResiduals", "convergedPairs", "converged", "iterations", "operatorApplications" })
            Assert.True(top.TryGetProperty(name, out _), $"topEigenpairs.{name}");
        Assert.Equal("LargestAlgebraic", top.GetProperty("which").GetString());
        Assert.Equal("Hutchinson", root.GetProperty("traces").GetProperty("method").GetString());
        Assert.True(root.GetProperty("traces").GetProperty("reachedTarget").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.Equal("Lanczos", root.GetProperty("options").GetProperty("solver").GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("bottomEigenpairs").ValueKind);
    }

    [Fact]
    public void Deserialize_ASchema1Document_KeepsItsMeasurements()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).BottomEigenpairs(1).WithTrace()
            .WithSpectralDensity(new HessianGeometry.Spectrum.SpectralDensityOptions { GridPoints = 40 }).WithAlignment().WithBoundaryComplexity().WithMargin()
            .Seed(21).WithLabel("epoch 1").AnalyzeMinimum();
        // A schema-1 document: the flat fields only, their objects with their schema-1 members only.
        var root = System.Text.Json.Nodes.JsonNode.Parse(MinimumReportJson.Serialize(report))!.AsObject();
        foreach (var section in new[] { "model", "topEigenpairs", "bottomEigenpairs", "traces", "alignmentSummary", "timings", "options", "budgetWarnings" })
            Assert.True(root.Remove(section), section);
        root["schemaVersion"] = 1;
        foreach (var extra in new[] { "runs", "steps", "operatorApplications", "hesd" })
            root["spectralDensity"]!.AsObject().Remove(extra);
        foreach (var extra in new[] { "complexityMean", "complexityMax", "encodingEigenvectors", "epsilon" })
            root["complexity"]!.AsObject().Remove(extra);
        foreach (var extra in new[] { "margin", "boundaryPoint", "objective" })
            root["marginDetails"]!.AsObject().Remove(extra);

        var back = MinimumReportJson.Deserialize(root.ToJsonString());
        Assert.Equal(report.Parameters, back.Parameters);
        Assert.Equal(report.Loss, back.Loss);
        Assert.Equal(report.Accuracy, back.Accuracy);
        Assert.Equal(report.Eigenvalues, back.Eigenvalues);
        Assert.Equal(report.ResidualNorms, back.ResidualNorms);
        Assert.Equal(report.EigenpairsConverged, back.EigenpairsConverged);
        Assert.Equal(report.BottomEigenvalues, back.BottomEigenvalues);
        Assert.Equal(report.Solver, back.Solver);
        Assert.Equal(report.Trace, back.Trace);
        Assert.Equal(report.TraceMethod, back.TraceMethod);
        Assert.Equal(report.TraceOfSquareStandardError, back.TraceOfSquareStandardError);
        Assert.Equal(report.WolkowiczStyan, back.WolkowiczStyan);
        Assert.Equal(report.Hesd, back.Hesd);
        Assert.Equal(report.SpectralDensity!.Density, back.SpectralDensity!.Density);
        Assert.Equal(report.MeanAbsAlignment, back.MeanAbsAlignment);
        Assert.Equal(report.Alignment!.Length, back.Alignment!.Length);
        Assert.Equal(report.ComplexityMean, back.ComplexityMean);
        Assert.Equal(report.EncodingEigenvectors, back.EncodingEigenvectors);
        Assert.Equal(report.Epsilon, back.Epsilon);
        Assert.Equal(report.Margin, back.Margin);
        Assert.Equal(report.BoundaryPoint, back.BoundaryPoint);
        Assert.Equal(report.HvpCount, back.HvpCount);
        Assert.Equal(report.TimingsSeconds, back.TimingsSeconds);
        Assert.Equal(report.Settings, back.Settings);
        Assert.Equal("epoch 1", back.Label);
        Assert.Equal(1, back.SchemaVersion);
    }

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

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
