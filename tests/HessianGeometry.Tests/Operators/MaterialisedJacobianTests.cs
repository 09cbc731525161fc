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
/// Cached Jacobian-sandwich batches (GGN, Monte-Carlo Fisher, empirical Fisher) on a materialised Jacobian J_B against
/// the double-vjp autograd path of the same engine (an engine built without a materialisation rule), single and block
/// products, float64 to 1e-12 relative, on the three TorchScript fixtures and an MLP; the memory budget and the
/// rent-or-buy rule choose the autograd path where they should; streamed batches never materialise; no tensor leaks.
/// </summary>
public sealed class MaterialisedJacobianTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-12;

    private static string ModelPath(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    public static TheoryData<string, CurvatureKind> ModelsAndKinds
    {
        get
        {
            var data = new TheoryData<string, CurvatureKind>();
            foreach (var model in new[] { "residual_cnn", "attention", "plain_cnn", "mlp_tanh_ce" })
                foreach (var kind in new[] { CurvatureKind.Ggn, CurvatureKind.Fisher, CurvatureKind.EmpiricalFisher })
                    data.Add(model, kind);
            return data;
        }
    }

    /// <summary>The model (TorchScript fixture or MLP fixture) with its data, cross-entropy.</summary>
    private static (Module Model, IDisposable? Owned, DataSource Data) Load(string name, int? batchSize = null)
    {
        if (name.StartsWith("mlp", StringComparison.Ordinal))
        {
            var (mlp, mlpData, _, _) = GgnOperatorTests.LoadMlp(name, batchSize);
            return (mlp, null, mlpData);
        }
        var file = SafetensorsFile.Read(ModelPath($"{name}_data.safetensors"));
        var model = TorchScriptModel.Load(ModelPath($"{name}.pt"));
        return (model, model, DataSource.FromTensors(file.LoadTensor("x"), file.LoadTensor("y"), batchSize));
    }

    private static ICurvatureEngine Engine(EmpiricalRisk risk, CurvatureKind kind, JacobianMaterialisation? rule) => kind switch
    {
        CurvatureKind.Ggn => new GgnEngine(risk, rule),
        CurvatureKind.Fisher => new MonteCarloFisherEngine(risk, 2, 17, rule),
        CurvatureKind.EmpiricalFisher => new EmpiricalFisherEngine(risk, rule),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static CurvatureOperator Operator(EmpiricalRisk risk, CurvatureKind kind, JacobianMaterialisation? rule, HessianGraphMode mode = HessianGraphMode.Cached) =>
        new(risk, Engine(risk, kind, rule), mode, kind.ToString());

    [Theory]
    [MemberData(nameof(ModelsAndKinds))]
    public void MaterialisedProducts_EqualTheDoubleVjpProducts_SingleAndBlock(string name, CurvatureKind kind)
    {
        using var scope = NewDisposeScope();
        var (model, owned, data) = Load(name);
        using var _ = owned;
        var before = ModelState.Of(model);
        var rule = new JacobianMaterialisation { PayoffProducts = 0 };
        using (var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data))
        using (var reference = Operator(risk, kind, null))
        using (var materialised = Operator(risk, kind, rule))
        {
            var generator = new Generator(2026);
            var v = randn(risk.Dimension, dtype: ScalarType.Float64, generator: generator);
            var block = randn(risk.Dimension, 4, dtype: ScalarType.Float64, generator: generator);
            var expected = reference.Apply(v);
            var expectedBlock = reference.ApplyBlock(block);
            var single = materialised.Apply(v);
            Assert.Equal(1, rule.MaterialisedBatches);
            var products = materialised.ApplyBlock(block);
            // A second single product after the block: the batch keeps its Jacobian.
            var again = materialised.Apply(v);
            output.WriteLine($"{name} {kind}: p = {risk.Dimension}, rel. error {GgnOperatorTests.MaxRelative(single, expected):G3} (single), {GgnOperatorTests.MaxRelative(products, expectedBlock):G3} (block)");
            Assertions.RelativelyClose(single, expected, Tolerance, $"{name} {kind}: C v");
            Assertions.RelativelyClose(again, expected, Tolerance, $"{name} {kind}: C v again");
            Assertions.RelativelyClose(products, expectedBlock, Tolerance, $"{name} {kind}: block C V");
            Assert.True(expected.norm().item<double>() > 0);
            Assert.Equal(1, rule.MaterialisedBatches);
            Assert.Contains("materialised Jacobian for 1 cached batch", materialised.EngineNote);
            Assert.DoesNotContain("materialised Jacobian for", reference.EngineNote);
        }
        before.AssertUnchanged(model);
    }

    [Theory]
    [InlineData(CurvatureKind.Ggn)]
    [InlineData(CurvatureKind.Fisher)]
    [InlineData(CurvatureKind.EmpiricalFisher)]
    public void SeveralCachedBatches_MaterialiseEach_AndMatchAutograd_ThroughDenseMatrices(CurvatureKind kind)
    {
        using var scope = NewDisposeScope();
        var (model, _, data) = Load("mlp_tanh_ce", batchSize: 5);
        var rule = new JacobianMaterialisation { PayoffProducts = 0 };
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        using var reference = Operator(risk, kind, null);
        using var materialised = Operator(risk, kind, rule);
        var dense = ExactHessian.Compute(materialised);
        Assert.True(rule.MaterialisedBatches > 1, $"{rule.MaterialisedBatches} batch(es) materialised");
        Assertions.RelativelyClose(dense, ExactHessian.Compute(reference), Tolerance, $"{kind}: dense C over {rule.MaterialisedBatches} batches");
    }

    [Fact]
    public void OverTheBatchBudget_TheBatchStaysOnTheDoubleVjpPath_AndSaysWhy()
    {
        using var scope = NewDisposeScope();
        var (model, owned, data) = Load("plain_cnn");
        using var _ = owned;
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var bytes = risk.SampleCount * model.call(data.Batches().First().Inputs.to(ScalarType.Float64)).shape[1] * risk.Dimension * 8;
        var rule = new JacobianMaterialisation { PayoffProducts = 0, BatchBytes = bytes - 1 };
        using var reference = Operator(risk, CurvatureKind.Ggn, null);
        using var limited = Operator(risk, CurvatureKind.Ggn, rule);
        var v = randn(risk.Dimension, dtype: ScalarType.Float64, generator: new Generator(5));
        Assertions.RelativelyClose(limited.Apply(v), reference.Apply(v), 1e-14, "autograd path under a budget");
        limited.Apply(v);
        Assert.Equal(0, rule.MaterialisedBatches);
        Assert.Equal(1, rule.RefusedBatches);
        output.WriteLine(limited.EngineNote);
        Assert.Contains("double-vjp for 1 cached batch(es)", limited.EngineNote);
        Assert.DoesNotContain("materialised Jacobian for", limited.EngineNote);
        Assert.Contains("per-batch budget", limited.EngineNote);

        var exact = new JacobianMaterialisation { PayoffProducts = 0, BatchBytes = bytes };
        using var fits = Operator(risk, CurvatureKind.Ggn, exact);
        fits.Apply(v);
        Assert.Equal(1, exact.MaterialisedBatches);
    }

    [Fact]
    public void OverTheTotalBudget_LaterBatchesStayOnTheDoubleVjpPath_AndTheSumIsUnchanged()
    {
        using var scope = NewDisposeScope();
        var (model, _, data) = Load("mlp_tanh_ce", batchSize: 5);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var classes = model.call(data.Batches().First().Inputs).shape[1];
        var perBatch = 5 * classes * risk.Dimension * 8;
        var rule = new JacobianMaterialisation { PayoffProducts = 0, TotalBytes = 2 * perBatch };
        using var reference = Operator(risk, CurvatureKind.Ggn, null);
        using var limited = Operator(risk, CurvatureKind.Ggn, rule);
        var block = randn(risk.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(6));
        Assertions.RelativelyClose(limited.ApplyBlock(block), reference.ApplyBlock(block), Tolerance, "mixed paths");
        Assert.Equal(2, rule.MaterialisedBatches);
        Assert.True(rule.RefusedBatches >= 1);
        Assert.Contains("budget", limited.EngineNote);
    }

    [Fact]
    public void TheDefaultRule_MaterialisesOnlyOnceTheProductsPayForTheJacobian()
    {
        using var scope = NewDisposeScope();
        var (model, _, data) = Load("mlp_tanh_ce");
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var outputs = risk.SampleCount * model.call(data.Batches().First().Inputs).shape[1];
        var threshold = (long)Math.Ceiling(outputs / JacobianMaterialisation.PayoffDivisor);
        var rule = new JacobianMaterialisation();
        using var ggn = Operator(risk, CurvatureKind.Ggn, rule);
        var v = randn(risk.Dimension, dtype: ScalarType.Float64, generator: new Generator(7));
        for (var i = 0; i < threshold; i++)
            ggn.Apply(v);
        Assert.Equal(0, rule.MaterialisedBatches);
        Assert.Contains("products by double-vjp", ggn.EngineNote);
        ggn.Apply(v);
        Assert.Equal(1, rule.MaterialisedBatches);

        // A block that alone exceeds the threshold materialises at once.
        var blockRule = new JacobianMaterialisation();
        using var blocked = Operator(risk, CurvatureKind.Ggn, blockRule);
        blocked.ApplyBlock(randn(risk.Dimension, threshold + 1, dtype: ScalarType.Float64, generator: new Generator(8)));
        Assert.Equal(1, blockRule.MaterialisedBatches);
        Assert.False(rule.PaysOff(outputs, 0, threshold));
        Assert.True(rule.PaysOff(outputs, threshold, 1));
    }

    [Fact]
    public void StreamedBatches_NeverMaterialise()
    {
        using var scope = NewDisposeScope();
        var (model, _, data) = Load("mlp_tanh_ce", batchSize: 5);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var rule = new JacobianMaterialisation { PayoffProducts = 0 };
        using var streamed = Operator(risk, CurvatureKind.Ggn, rule, HessianGraphMode.Streamed);
        using var reference = Operator(risk, CurvatureKind.Ggn, null, HessianGraphMode.Cached);
        var block = randn(risk.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(9));
        Assertions.RelativelyClose(streamed.ApplyBlock(block), reference.ApplyBlock(block), Tolerance, "streamed");
        Assert.Equal(0, rule.MaterialisedBatches);
    }

    [Fact]
    public void MaterialisedProducts_LeaveNoLiveTensors_AndDisposeFreesTheJacobian()
    {
        var statistics = DisposeScopeManager.Statistics;
        var (model, owned, data) = Load("attention");
        using var _ = owned;
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var start = statistics.ThreadTotalLiveCount;
        using (var v = randn(risk.Dimension, dtype: ScalarType.Float64, generator: new Generator(10)))
        using (var block = randn(risk.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(11)))
        {
            var rule = new JacobianMaterialisation { PayoffProducts = 0 };
            var ggn = Operator(risk, CurvatureKind.EmpiricalFisher, rule);
            ggn.Apply(v).Dispose();
            var live = statistics.ThreadTotalLiveCount;
            for (var i = 0; i < 20; i++)
            {
                ggn.Apply(v).Dispose();
                ggn.ApplyBlock(block).Dispose();
            }
            Assert.Equal(live, statistics.ThreadTotalLiveCount);
            ggn.Dispose();
        }
        Assert.Equal(start, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Float32Analysis_MaterialisedEqualsDoubleVjp_ToFloat32RoundOff()
    {
        using var scope = NewDisposeScope();
        var (model, owned, data) = Load("plain_cnn");
        using var _ = owned;
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data, options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float32 });
        using var reference = Operator(risk, CurvatureKind.Ggn, null);
        using var materialised = Operator(risk, CurvatureKind.Ggn, new JacobianMaterialisation { PayoffProducts = 0 });
        var v = randn(risk.Dimension, dtype: ScalarType.Float32, generator: new Generator(12));
        var expected = reference.Apply(v);
        var actual = materialised.Apply(v);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assertions.RelativelyClose(actual, expected, 1e-5, "float32");
    }
}
