using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Reliability;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Models;

/// <summary>
/// A model whose inputs are integer token ids (fixtures/generate_token_fixture.py: Embedding, Conv1d, GroupNorm, SiLU,
/// max over time, Dropout, Linear; TorchScript from PyTorch 1.13). The ids reach the model as they are, in any analysis
/// precision; eigenvalues match PyTorch's dense float64 Hessian; the parameter-space measures run; the input-space ones
/// are refused with the reason and the fix, before any product.
/// </summary>
public sealed class TokenInputModelTests
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static JsonElement Reference { get; } =
        JsonDocument.Parse(File.ReadAllText(PathOf("token_cnn_reference.json"))).RootElement;

    private static double[] Doubles(string name) => Reference.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static (Tensor Ids, Tensor Y) Data(string idsKey = "ids")
    {
        var file = SafetensorsFile.Read(PathOf("token_cnn_data.safetensors"));
        return (file.LoadTensor(idsKey), file.LoadTensor("y"));
    }

    [Fact]
    public void Float64File_LossGradientTop10AndBottom5_MatchPyTorchsDenseHessian()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf("token_cnn.pt"));
        var (ids, y) = Data();
        var idsBefore = ids.clone();
        var before = ModelState.Of(model);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(ids, y));

        Assert.Equal(Reference.GetProperty("p").GetInt64(), op.Dimension);
        Assert.Equal(Reference.GetProperty("loss").GetDouble(), op.Loss(), 1e-13);
        Assert.Equal(Reference.GetProperty("gradient_norm").GetDouble(), op.Gradient().norm().item<double>(), 1e-12);
        PyTorchSpectrum.AssertEnds(op, Doubles("eigenvalues_top10"), Doubles("eigenvalues_bottom5")[..2], "Hessian");

        before.AssertUnchanged(model);
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.True(ids.eq(idsBefore).all().item<bool>());
    }

    [Theory]
    [InlineData("token_cnn_f32.pt", "ids")]
    [InlineData("token_cnn.pt", "ids_int32")]
    public void FluentAnalysis_OnTokenIds_RunsTheParameterSpaceMeasures(string file, string idsKey)
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf(file));
        var (ids, y) = Data(idsKey);
        var before = ModelState.Of(model);
        var top = Doubles("eigenvalues_top10");

        var report = HessianAnalysis.For(model).WithData(ids, y).TopEigenpairs(3, relativeTolerance: 1e-9)
            .WithTrace().WithAlignment().WithBoundaryComplexity().Seed(5).AnalyzeMinimum();

        Assert.Equal("Float64", report.Precision);
        // float32 weights are the float64 ones rounded: eigenvalues move by about float32's resolution.
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(report.Eigenvalues![i] - top[i]) <= 1e-5 * top[0], $"λ{i + 1}: {report.Eigenvalues[i]} vs {top[i]}");
        Assert.Equal(Reference.GetProperty("trace").GetDouble(), report.Trace!.Value, 0.1 * Math.Abs(report.Trace.Value) + 4 * report.TraceStandardError!.Value);
        Assert.Equal(ids.shape[0], report.Alignment!.Length);
        Assert.InRange(report.ComplexityMean!.Value, 0.0, 1.0);
        Assert.Equal(1.0, report.Accuracy!.Value);
        before.AssertUnchanged(model);
    }

    [Fact]
    public void InputSpaceMeasures_OnTokenIds_AreRefusedWithTheFix_BeforeAnyProduct()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf("token_cnn.pt"));
        var (ids, y) = Data();

        var margin = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(ids, y).TopEigenpairs(1).WithMargin().AnalyzeMinimum());
        Assert.Contains("token ids", margin.Message, StringComparison.Ordinal);
        Assert.Contains("leave the input-space measures", margin.Message, StringComparison.Ordinal);
        var samples = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(ids, y).TopEigenpairs(1).WithSampleMargins().AnalyzeMinimum());
        Assert.Contains("Int64", samples.Message, StringComparison.Ordinal);
        Assert.Contains("WithSampleMargins", samples.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdsOutsideTheVocabulary_AreRefusedWithTheEmbeddingsReason_NotTheInterpretersHeadline()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf("token_cnn.pt"));
        var (ids, y) = Data();
        var tooLarge = ids + Reference.GetProperty("vocabulary").GetInt64();

        var error = Assert.Throws<ArgumentException>(() => new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(tooLarge, y)));

        Assert.Contains("index out of range", error.Message, StringComparison.Ordinal);
        Assert.Contains("vocabulary size", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("The following operation failed", error.Message, StringComparison.Ordinal);
    }
}
