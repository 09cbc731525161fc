using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

public sealed class LossHessianOperatorTests
{
    [Theory]
    [InlineData(HvpEngine.DoubleBackward)]
    [InlineData(HvpEngine.AnalyticMlp)]
    public void SoftmaxRegression_Hessian_MatchesClosedForm(HvpEngine engine)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(60, 3, 4, seed: 1);
        var model = TinyModels.Mlp([3, 4], "relu", seed: 2);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), options: new LossHessianOptions { Engine = engine });
        Assert.Equal(engine, op.Engine);
        var expected = AnalyticHessians.SoftmaxRegression(model.parameters().First(), model.parameters().Last(), x);
        Assertions.RelativelyClose(op.ToDense(), expected, 1e-5, "softmax-regression Hessian");
    }

    [Theory]
    [InlineData(HvpEngine.DoubleBackward)]
    [InlineData(HvpEngine.AnalyticMlp)]
    public void LeastSquares_Hessian_IsTwoXtXOverN(HvpEngine engine)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var x = randn(40, 5, dtype: ScalarType.Float64, generator: g);
        var y = randn(40, 1, dtype: ScalarType.Float64, generator: g);
        torch.manual_seed(4);
        var model = nn.Sequential(("0", nn.Linear(5, 1, hasBias: false, dtype: ScalarType.Float64)));
        using var op = new LossHessianOperator(model, LossFunction.MeanSquaredError, DataSource.FromTensors(x, y, batchSize: 7), options: new LossHessianOptions { Engine = engine });
        Assert.Equal(engine, op.Engine);
        Assertions.RelativelyClose(op.ToDense(), AnalyticHessians.LeastSquares(x), 1e-12, "least-squares Hessian");
    }

    [Theory]
    [InlineData("tanh", HvpEngine.DoubleBackward)]
    [InlineData("relu", HvpEngine.DoubleBackward)]
    [InlineData("gelu", HvpEngine.DoubleBackward)]
    [InlineData("tanh", HvpEngine.AnalyticMlp)]
    [InlineData("relu", HvpEngine.AnalyticMlp)]
    [InlineData("gelu", HvpEngine.AnalyticMlp)]
    [InlineData("sigmoid", HvpEngine.AnalyticMlp)]
    public void Hvp_MatchesCentralFiniteDifferences(string activation, HvpEngine engine)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(50, 3, 3, seed: 5);
        var model = TinyModels.Mlp([3, 6, 5, 3], activation, seed: 6);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 16), options: new LossHessianOptions { Engine = engine });
        Assert.Equal(engine, op.Engine);
        var v = randn(op.Dimension, dtype: ScalarType.Float64, generator: new Generator(7));
        var hv = op.Apply(v);
        var fd = FiniteDifferences.HessianVectorProduct(op, v, epsilon: 1e-6);
        // ReLU is piecewise linear: a step of 1e-6 crosses no kink for these seeds, so the difference is exact to rounding.
        Assertions.RelativelyClose(hv, fd, 1e-5, $"HVP vs finite differences ({activation})");
    }

    [Fact]
    public void ExactHessian_IsSymmetric_InFloat64()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 8);
        var model = TinyModels.Mlp([2, 5, 3], "tanh", seed: 9);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var h = ExactHessian.Compute(op);
        var asym = (h - h.T).abs().max().item<double>();
        Assert.True(asym <= 1e-10 * Math.Max(1.0, h.abs().max().item<double>()), $"max|H − Hᵀ| = {asym:G3}");
    }

    [Fact]
    public void StreamedHvp_WithUnevenBatches_EqualsOneBatch()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(103, 3, 3, seed: 10);
        var model = TinyModels.Mlp([3, 7, 3], "tanh", seed: 11);
        using var oneBatch = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        using var streamed = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 17));
        var batches = new[] { (0L, 40L), (40L, 3L), (43L, 60L) }.Select(r => (x.narrow(0, r.Item1, r.Item2), y.narrow(0, r.Item1, r.Item2))).ToList();
        using var enumerated = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromBatches(batches));
        Assert.True(oneBatch.IsGraphCached);
        Assert.False(streamed.IsGraphCached);
        var v = randn(oneBatch.Dimension, dtype: ScalarType.Float64, generator: new Generator(12));
        var reference = oneBatch.Apply(v);
        Assertions.RelativelyClose(streamed.Apply(v), reference, 1e-6, "streamed vs one batch");
        Assertions.RelativelyClose(enumerated.Apply(v), reference, 1e-6, "enumerated batches vs one batch");
        Assert.Equal(oneBatch.Loss(), enumerated.Loss(), 10);
    }

    [Fact]
    public void BlockProduct_EqualsColumnByColumn()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(64, 3, 3, seed: 13);
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 14);
        foreach (var batchSize in new int?[] { null, 20 })
        {
            using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize));
            var block = randn(op.Dimension, 4, dtype: ScalarType.Float64, generator: new Generator(15));
            var result = op.ApplyBlock(block);
            for (var j = 0; j < 4; j++)
                Assertions.RelativelyClose(result[.., j], op.Apply(block[.., j].contiguous()), 1e-12, $"column {j}");
            Assert.Equal(8, op.ApplicationCount);
        }
    }

    [Fact]
    public void Float64Analysis_OfFloat32Model_MatchesFloat64Copy_AndLeavesModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(40, 3, 3, seed: 16);
        var model32 = TinyModels.Mlp([3, 5, 3], "tanh", seed: 17, dtype: ScalarType.Float32);
        var model64 = TinyModels.Mlp([3, 5, 3], "tanh", seed: 17, dtype: ScalarType.Float32);
        model64.to(ScalarType.Float64);
        var before = model32.parameters().Select(p => p.detach().clone()).ToList();
        var paramObjects = model32.parameters().ToList();

        using var op = new LossHessianOperator(model32, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
        Assert.Equal(ScalarType.Float64, op.DType);
        using var reference = new LossHessianOperator(model64, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32).to(ScalarType.Float64), y));
        Assertions.RelativelyClose(op.ToDense(), reference.ToDense(), 1e-12, "float64 twin vs float64 copy");

        var after = model32.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Same(paramObjects[i], after[i]);
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.True(after[i].detach().eq(before[i]).all().item<bool>(), "parameter values changed");
            Assert.True(after[i].grad is null || after[i].grad!.IsInvalid, "gradient was written");
        }
    }

    [Fact]
    public void ThousandHvps_LeaveNoLiveTensors()
    {
        var (x, y) = TinyModels.Blobs(32, 3, 3, seed: 18);
        x.DetachFromDisposeScope();
        y.DetachFromDisposeScope();
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 19);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 16));
        var v = randn(op.Dimension, dtype: ScalarType.Float64);
        using (var warm = NewDisposeScope())
            op.Apply(v);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 1000; i++)
            op.Apply(v).Dispose();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
    [Theory]
    [InlineData(LossReduction.None)]
    [InlineData(LossReduction.Sum)]
    [InlineData(LossReduction.Mean)]
    public void CustomLoss_WithDeclaredReduction_EqualsBuiltInCrossEntropy(LossReduction reduction)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(36, 3, 3, seed: 20);
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 21);
        var torchReduction = reduction switch
        {
            LossReduction.None => nn.Reduction.None,
            LossReduction.Sum => nn.Reduction.Sum,
            _ => nn.Reduction.Mean,
        };
        var custom = LossFunction.Custom("my-ce", (o, t) => nn.functional.cross_entropy(o, t, reduction: torchReduction), reduction);
        using var reference = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 10));
        using var op = new LossHessianOperator(model, custom, DataSource.FromTensors(x, y, batchSize: 10));
        Assertions.RelativelyClose(op.ToDense(), reference.ToDense(), 1e-12, $"custom loss ({reduction})");
        Assert.Equal(reference.Loss(), op.Loss(), 12);
    }

    [Fact]
    public void NllOnLogSoftmax_EqualsCrossEntropyOnLogits()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 22);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 23);
        var withLogSoftmax = nn.Sequential(("net", model), ("log_softmax", nn.LogSoftmax(1)));
        using var ce = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        using var nll = new LossHessianOperator(withLogSoftmax, LossFunction.NegativeLogLikelihood, DataSource.FromTensors(x, y));
        Assertions.RelativelyClose(nll.ToDense(), ce.ToDense(), 1e-12, "NLL on log-softmax vs CE");
    }

    [Fact]
    public void ParameterSubset_GivesTheMatchingBlockOfTheFullHessian()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 24);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 25);
        using var full = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var lastLayer = ParameterSpace.FromModule(model, name => name.StartsWith("2.", StringComparison.Ordinal));
        using var subset = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), lastLayer);
        var (start, _) = full.Parameters.RangeOf("2.weight");
        var block = full.ToDense().narrow(0, start, lastLayer.Dimension).narrow(1, start, lastLayer.Dimension);
        Assert.Equal(15, subset.Dimension);
        Assertions.RelativelyClose(subset.ToDense(), block, 1e-12, "last-layer block");
    }
}
