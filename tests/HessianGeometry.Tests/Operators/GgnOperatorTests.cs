using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using HessianGeometry.Tests.Reliability;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The generic GGN engine against PyTorch references built from explicit Jacobians (fixtures/generate_ggn_fixtures.py):
/// dense G of two MLPs (cross-entropy and MSE) and G·v of the three TorchScript fixture models, in float64 to 1e-10; the
/// split H = G + R against PyTorch's Hessian; G positive semi-definite; float32 close to float64; the model untouched.
/// </summary>
public sealed class GgnOperatorTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-10;

    internal static (Module Model, DataSource Data, LossFunction Loss, SafetensorsFile File) LoadMlp(string fixture, int? batchSize = null)
    {
        var file = SafetensorsFile.Read(Interop.Fixtures.PathOf(fixture + ".safetensors"));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        var data = DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y"), batchSize);
        return (model, data, LossFunction.Parse(file.Metadata["loss"]), file);
    }

    internal static Tensor ReferenceGgn(string fixture) =>
        SafetensorsFile.Read(Interop.Fixtures.PathOf($"ggn/{fixture}_ggn.safetensors")).LoadTensor("ggn");

    private static string ModelPath(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    [Theory]
    [InlineData("mlp_tanh_ce", null)]
    [InlineData("mlp_tanh_ce", 5)]
    [InlineData("mlp_tanh_mse", null)]
    [InlineData("mlp_tanh_mse", 5)]
    public void DenseGgn_OfAnMlp_MatchesExplicitJacobianReference(string fixture, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = LoadMlp(fixture, batchSize);
        using var risk = new EmpiricalRisk(model, loss, data);
        using var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn, new CurvatureOptions { Engine = HvpEngine.DoubleBackward });
        Assert.IsType<GgnEngine>(ggn.CurvatureEngine);
        Assert.Contains("generic GGN", ggn.EngineNote);
        var dense = ExactHessian.Compute(ggn);
        var reference = ReferenceGgn(fixture);
        output.WriteLine($"{fixture} (batch {batchSize?.ToString() ?? "all"}): max rel. error {MaxRelative(dense, reference):G3}");
        Assertions.RelativelyClose(dense, reference, Tolerance, $"{fixture}: G");
    }

    [Theory]
    [InlineData("mlp_tanh_ce", null)]
    [InlineData("mlp_tanh_mse", 5)]
    public void AutoEngine_OnAnMlp_IsTheAnalyticGgnEngine_AndMatchesTheReference(string fixture, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = LoadMlp(fixture, batchSize);
        using var risk = new EmpiricalRisk(model, loss, data);
        using var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn);
        Assert.IsType<AnalyticMlpGgnEngine>(ggn.CurvatureEngine);
        Assert.Contains("analytic MLP GGN", ggn.EngineNote);
        Assertions.RelativelyClose(ExactHessian.Compute(ggn), ReferenceGgn(fixture), Tolerance, $"{fixture}: analytic G");
    }

    [Theory]
    [InlineData("mlp_tanh_ce")]
    [InlineData("mlp_tanh_mse")]
    public void HessianEqualsGgnPlusResidual_AndGgnIsPositiveSemidefinite(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, file) = LoadMlp(fixture);
        using var risk = new EmpiricalRisk(model, loss, data);
        using var hessian = CurvatureOperators.Create(risk, CurvatureKind.Hessian, new CurvatureOptions { Engine = HvpEngine.DoubleBackward });
        using var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn);
        var residual = new ResidualOperator(hessian, ggn);
        var g = ExactHessian.Compute(ggn);
        var r = ExactHessian.Compute(residual);
        var h = file.LoadTensor("reference.hessian");
        Assertions.RelativelyClose(g + r, h, Tolerance, $"{fixture}: G + R vs PyTorch's H");
        // The residual is not negligible on these fixtures (else the split tests nothing).
        Assert.True(r.abs().max().item<double>() > 1e-3 * h.abs().max().item<double>());

        var eigenvalues = linalg.eigvalsh((g + g.T) / 2);
        var lambdaMax = eigenvalues[-1].item<double>();
        var lambdaMin = eigenvalues[0].item<double>();
        output.WriteLine($"{fixture}: λ_min(G) = {lambdaMin:G3}, λ_max(G) = {lambdaMax:G4}; λ_min(H) = {linalg.eigvalsh(h)[0].item<double>():G4}");
        Assert.True(lambdaMin >= -1e-12 * lambdaMax, $"G has eigenvalue {lambdaMin} < 0");
    }

    public static TheoryData<string, string> ModelsAndLosses => new()
    {
        { "residual_cnn", "ce" }, { "residual_cnn", "mse" },
        { "attention", "ce" }, { "attention", "mse" },
        { "plain_cnn", "ce" }, { "plain_cnn", "mse" },
    };

    [Theory]
    [MemberData(nameof(ModelsAndLosses))]
    public void GgnVectorProducts_OfTorchScriptModels_MatchExplicitJacobianReference_AndLeaveTheModelUntouched(string name, string loss)
    {
        using var scope = NewDisposeScope();
        var reference = SafetensorsFile.Read(Interop.Fixtures.PathOf($"ggn/{name}_ggn.safetensors"));
        var data = SafetensorsFile.Read(ModelPath($"{name}_data.safetensors"));
        using var model = TorchScriptModel.Load(ModelPath($"{name}.pt"));
        var before = ModelState.Of(model);
        using (var risk = new EmpiricalRisk(model, LossFunction.Parse(loss), DataSource.FromTensors(data.LoadTensor("x"), data.LoadTensor("y"))))
        using (var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn))
        {
            Assert.Equal(reference.Metadata["parameter_order"], string.Join(",", ggn.Parameters.Names));
            var block = stack([reference.LoadTensor("v0"), reference.LoadTensor("v1"), reference.LoadTensor("v2")], 1);
            var products = ggn.ApplyBlock(block);
            for (var i = 0; i < 3; i++)
            {
                var expected = reference.LoadTensor($"{loss}.gv{i}");
                var single = ggn.Apply(reference.LoadTensor($"v{i}"));
                output.WriteLine($"{name} {loss} v{i}: rel. error {MaxRelative(single, expected):G3} (single), {MaxRelative(products[.., i], expected):G3} (block)");
                Assertions.RelativelyClose(single, expected, Tolerance, $"{name} {loss}: G v{i}");
                Assertions.RelativelyClose(products[.., i].contiguous(), expected, Tolerance, $"{name} {loss}: block G v{i}");
            }
        }
        before.AssertUnchanged(model);
    }

    [Theory]
    [InlineData("plain_cnn")]
    [InlineData("attention")]
    public void Float32Analysis_OfAFloat32Model_IsCloseToTheFloat64Reference(string name)
    {
        using var scope = NewDisposeScope();
        var reference = SafetensorsFile.Read(Interop.Fixtures.PathOf($"ggn/{name}_ggn.safetensors"));
        var data = SafetensorsFile.Read(ModelPath($"{name}_data.safetensors"));
        using var model = TorchScriptModel.Load(ModelPath($"{name}_f32.pt"));
        var before = ModelState.Of(model);
        using (var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(data.LoadTensor("x"), data.LoadTensor("y")),
            options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float32 }))
        using (var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn))
        {
            Assert.Equal(ScalarType.Float32, ggn.DType);
            var product = ggn.Apply(reference.LoadTensor("v0").to(ScalarType.Float32));
            var expected = reference.LoadTensor("ce.gv0");
            var error = MaxRelative(product, expected);
            output.WriteLine($"{name}: float32 G v vs float64 reference, max rel. error {error:G3}");
            Assert.True(error <= 1e-4, $"float32 G v differs from float64 by {error:G3}");
            Assert.True(error > 0);
        }
        before.AssertUnchanged(model);
    }

    [Fact]
    public void Float64AnalysisOfFloat32Mlp_EqualsTheFloat64Copy_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = LoadMlp("mlp_tanh_ce");
        var reference = ReferenceGgn("mlp_tanh_ce");
        model.to(ScalarType.Float32);
        var before = ModelState.Of(model);
        using (var risk = new EmpiricalRisk(model, loss, data, options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float64 }))
        using (var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn))
        {
            var dense = ExactHessian.Compute(ggn);
            // The weights were rounded to float32, so the reference agrees to float32 accuracy only.
            Assertions.RelativelyClose(dense, reference, 1e-5, "float64 G of the float32 model");
        }
        before.AssertUnchanged(model);
    }

    [Fact]
    public void NllAndCustomLosses_AreRefusedWithTheReason()
    {
        using var scope = NewDisposeScope();
        var (model, data, _, _) = LoadMlp("mlp_tanh_ce");
        using var risk = new EmpiricalRisk(model, LossFunction.NegativeLogLikelihood, data);
        var ex = Assert.Throws<NotSupportedException>(() => CurvatureOperators.Create(risk, CurvatureKind.Ggn));
        Assert.Contains("cross-entropy on the logits", ex.Message);
        Assert.Throws<NotSupportedException>(() => CurvatureOperators.Create(risk, CurvatureKind.Fisher));
        Assert.Throws<NotSupportedException>(() => CurvatureOperators.Create(risk, CurvatureKind.Ggn, new CurvatureOptions { Engine = HvpEngine.AnalyticMlp }));
    }

    [Theory]
    [InlineData("hessian", CurvatureKind.Hessian)]
    [InlineData("GGN", CurvatureKind.Ggn)]
    [InlineData("fisher", CurvatureKind.Fisher)]
    [InlineData("empirical-fisher", CurvatureKind.EmpiricalFisher)]
    public void CurvatureNames_RoundTrip(string name, CurvatureKind kind)
    {
        Assert.Equal(kind, CurvatureOperators.Parse(name));
        Assert.Equal(name.ToLowerInvariant(), CurvatureOperators.NameOf(kind));
    }

    internal static double MaxRelative(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var a = actual.to(ScalarType.Float64);
        var e = expected.to(ScalarType.Float64);
        return (a - e).abs().max().item<double>() / Math.Max(e.abs().max().item<double>(), 1e-300);
    }
}
