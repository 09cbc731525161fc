using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Reliability;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Models;

/// <summary>
/// A binary classifier with one logit, analysed as the two-class logits [0, f]: for logistic regression the Hessian
/// equals the closed form (1/n) X̃ᵀ diag(σ(1 − σ)) X̃ and the loss PyTorch's BCEWithLogits; on a TorchScript MLP trained
/// with BCEWithLogits in PyTorch (fixtures/generate_binary_fixture.py) the Hessian's and the GGN's eigenvalues match
/// PyTorch's dense matrices, also for the float32 file analysed in float64; the wrapper never owns or changes the model.
/// </summary>
public sealed class TwoClassLogitsTests
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static JsonElement Reference { get; } = JsonDocument.Parse(File.ReadAllText(PathOf("binary_mlp_reference.json"))).RootElement;

    private static double[] Doubles(string name) => Reference.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static (Tensor X, Tensor Y) Data()
    {
        var file = SafetensorsFile.Read(PathOf("binary_mlp_data.safetensors"));
        return (file.LoadTensor("x"), file.LoadTensor("y"));
    }

    [Fact]
    public void LogisticRegression_HessianIsTheClosedForm_LossIsBceWithLogits_AndEqualsTheGgn()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var linear = nn.Linear(3, 1, dtype: ScalarType.Float64);
        var x = randn(40, 3, dtype: ScalarType.Float64);
        var y = (randn(40, dtype: ScalarType.Float64) > 0).to(ScalarType.Int64);
        linear.eval();
        var before = ModelState.Of(linear);
        using var model = new TwoClassLogits(linear);
        Assert.Equal(linear.named_parameters().Select(p => p.name), model.named_parameters().Select(p => p.name));

        using var hessian = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var dense = ExactHessian.Compute(hessian);
        // θ = (w₁, w₂, w₃, b): X̃ = [X, 1].
        var xt = cat([x, ones(40, 1, dtype: ScalarType.Float64)], 1);
        var s = linear.call(x).squeeze(1).sigmoid();
        var closedForm = xt.T.mm(xt * (s * (1 - s)).unsqueeze(1)) / 40;
        Assert.True((dense - closedForm).abs().max().item<double>() <= 1e-14, "Hessian ≠ (1/n) X̃ᵀ diag(σ(1 − σ)) X̃");
        var bce = nn.functional.binary_cross_entropy_with_logits(linear.call(x).squeeze(1), y.to(ScalarType.Float64)).item<double>();
        Assert.Equal(bce, hessian.Loss(), 1e-15);
        using var ggn = CurvatureOperators.Create(hessian.Risk, CurvatureKind.Ggn);
        Assert.True((ExactHessian.Compute(ggn) - closedForm).abs().max().item<double>() <= 1e-14, "for logistic regression the GGN is the Hessian");
        before.AssertUnchanged(linear);
    }

    [Fact]
    public void TorchScriptBinaryMlp_HessianAndGgnEigenvalues_MatchPyTorch()
    {
        using var scope = NewDisposeScope();
        using var script = TorchScriptModel.Load(PathOf("binary_mlp.pt"));
        using var model = new TwoClassLogits(script);
        var (x, y) = Data();
        var before = ModelState.Of(script);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));

        Assert.Equal(Reference.GetProperty("p").GetInt64(), op.Dimension);
        Assert.Equal(Reference.GetProperty("loss").GetDouble(), op.Loss(), 1e-14);
        Assert.Equal(Reference.GetProperty("gradient_norm").GetDouble(), op.Gradient().norm().item<double>(), 1e-12);
        PyTorchSpectrum.AssertEnds(op, Doubles("eigenvalues_top10"), Doubles("eigenvalues_bottom5")[..2], "Hessian");
        // PyTorch built its GGN as (1/n) Σ σ(1 − σ)∇f∇fᵀ from per-sample logit gradients.
        using var ggn = CurvatureOperators.Create(op.Risk, CurvatureKind.Ggn);
        PyTorchSpectrum.AssertEnds(ggn, Doubles("ggn_eigenvalues_top5"), [], "GGN");
        before.AssertUnchanged(script);
    }

    [Fact]
    public void Float32File_AnalysedInFloat64_ThroughTheWrapper_LeavesTheFileUntouched()
    {
        using var scope = NewDisposeScope();
        using var script = TorchScriptModel.Load(PathOf("binary_mlp_f32.pt"));
        var (x, y) = Data();
        var before = ModelState.Of(script);
        var top = Doubles("eigenvalues_top10");

        var report = HessianAnalysis.For(new TwoClassLogits(script)).WithData(x, y).TopEigenpairs(3, relativeTolerance: 1e-9)
            .WithAlignment().WithMargin().Seed(2).AnalyzeMinimum();

        Assert.Equal("Float64", report.Precision);
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(report.Eigenvalues![i] - top[i]) <= 1e-5 * top[0], $"λ{i + 1}: {report.Eigenvalues[i]} vs {top[i]}");
        Assert.Equal(Reference.GetProperty("accuracy").GetDouble(), report.Accuracy!.Value);
        Assert.True(report.Margin > 0);
        before.AssertUnchanged(script);
        Assert.Equal(ScalarType.Float32, script.parameters().First().dtype);
    }

    [Fact]
    public void AModelWithTwoLogits_IsRefusedNamingItsShape_AndDisposingTheWrapperLeavesTheModelWorking()
    {
        using var scope = NewDisposeScope();
        var twoLogits = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2));
        twoLogits.eval();
        var wrapper = new TwoClassLogits(twoLogits);
        var error = Assert.Throws<ArgumentException>(() => new LossHessianOperator(wrapper, LossFunction.CrossEntropy,
            DataSource.FromTensors(randn(6, 3), zeros(6, dtype: ScalarType.Int64))));
        Assert.Contains("one logit per sample", error.Message, StringComparison.Ordinal);
        Assert.Contains("[6, 2]", error.Message, StringComparison.Ordinal);

        wrapper.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(2, twoLogits.call(randn(5, 3)).shape[1]);
    }
}
