using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HessianGeometry.Tests.Geometry;

public sealed class ReinforcingGradientsTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void PerSample_ForOneInput_MatchesCentralFiniteDifferencesOfTheHandWrittenLoss(bool mse, bool trueLabel)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(12, 3, 3, seed: 21);
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 22);
        var loss = mse ? LossFunction.MeanSquaredError : LossFunction.CrossEntropy;
        using var op = new LossHessianOperator(model, loss, DataSource.FromTensors(x, y));
        var row = x.narrow(0, 4, 1);
        var predicted = model.call(row).argmax(1);
        // A label different from the prediction shows that the true-label option really changes the target.
        var target = trueLabel ? (predicted + 1) % 3 : predicted;
        var g = ReinforcingGradients.PerSample(op.Risk, row, trueLabel ? target : null)[0];

        var theta = op.Parameters.GetValues();
        var fd = zeros_like(theta);
        const double h = 1e-6;
        try
        {
            for (long i = 0; i < theta.shape[0]; i++)
            {
                using var step = NewDisposeScope();
                var e = zeros_like(theta);
                e[i] = tensor(h, dtype: ScalarType.Float64);
                op.Parameters.SetValues(theta + e);
                var plus = GeometryReferences.HandLoss(model.call(row), target, mse).item<double>();
                op.Parameters.SetValues(theta - e);
                var minus = GeometryReferences.HandLoss(model.call(row), target, mse).item<double>();
                fd[i] = tensor((plus - minus) / (2 * h), dtype: ScalarType.Float64);
            }
        }
        finally
        {
            op.Parameters.SetValues(theta);
        }
        Assertions.RelativelyClose(g, fd, 1e-6, "reinforcing gradient vs finite differences");
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("relu")]
    [InlineData("gelu")]
    public void FastNorms_EqualThePerSampleLoop_AndExplicitGradients(string activation)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(37, 3, 4, seed: 23);
        var model = TinyModels.Mlp([3, 7, 5, 4], activation, seed: 24);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.True(ReinforcingGradients.CanUseLinearFastPath(op.Risk));
        Assert.NotNull(LinearChain.TryCreate(op.Risk)!.Run(op.Risk, x, null, wantNorms: true, directions: null));
        var fast = ReinforcingGradients.Norms(op.Risk, x, options: new AlignmentOptions { BatchSize = 10 });
        var loop = ReinforcingGradients.Norms(op.Risk, x, options: new AlignmentOptions { UseFastPerSampleNorms = false });
        var explicitNorms = GeometryReferences.ExplicitGradients(model, x).norm(1);
        Assertions.RelativelyClose(loop, explicitNorms, 1e-12, "per-sample loop norms");
        Assertions.RelativelyClose(fast, explicitNorms, 1e-12, "fast-path norms");
    }

    [Fact]
    public void DirectionalDerivatives_FastPathAndDoubleVjp_EqualExplicitGradientsTimesDirections()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(29, 3, 3, seed: 25);
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 26);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v = GeometryReferences.RandomDirections(op.Dimension, 4, seed: 27);
        var expected = GeometryReferences.ExplicitGradients(model, x).mm(v);
        var fast = ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v, options: new AlignmentOptions { BatchSize = 8 });
        var doubleVjp = ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v, options: new AlignmentOptions { BatchSize = 8, UseFastDirectionalDerivatives = false });
        Assertions.RelativelyClose(fast, expected, 1e-12, "fast-path directional derivatives");
        Assertions.RelativelyClose(doubleVjp, expected, 1e-12, "double-vjp directional derivatives");
    }

    [Fact]
    public void FastPath_IsNotUsed_WhenAParameterLivesOutsideALinearLayer_AndResultsStayExact()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(15, 3, 3, seed: 28);
        torch.manual_seed(29);
        var model = Sequential(("0", Linear(3, 6, dtype: ScalarType.Float64)), ("1", LayerNorm(6, dtype: ScalarType.Float64)),
            ("2", Tanh()), ("3", Linear(6, 3, dtype: ScalarType.Float64)));
        model.eval();
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.False(ReinforcingGradients.CanUseLinearFastPath(op.Risk));
        var v = GeometryReferences.RandomDirections(op.Dimension, 2, seed: 30);
        var gradients = GeometryReferences.ExplicitGradients(model, x);
        Assertions.RelativelyClose(ReinforcingGradients.Norms(op.Risk, x), gradients.norm(1), 1e-12, "fallback norms");
        Assertions.RelativelyClose(ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v), gradients.mm(v), 1e-12, "fallback products");
    }

    [Fact]
    public void FastPath_WithAParameterSubset_CoversOnlyTheSelectedParameters()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 31);
        var model = TinyModels.Mlp([3, 6, 4, 3], "relu", seed: 32);
        // Only the middle layer's weight and the last layer's bias: the fast path must skip the others.
        var space = ParameterSpace.FromModule(model, n => n is "2.weight" or "4.bias");
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), space);
        Assert.True(ReinforcingGradients.CanUseLinearFastPath(op.Risk));
        var perSample = ReinforcingGradients.PerSample(op.Risk, x);
        Assert.Equal(new long[] { 20, 4 * 6 + 3 }, perSample.shape);
        var v = GeometryReferences.RandomDirections(op.Dimension, 3, seed: 33);
        Assertions.RelativelyClose(ReinforcingGradients.Norms(op.Risk, x), perSample.norm(1), 1e-12, "subset norms");
        Assertions.RelativelyClose(ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v), perSample.mm(v), 1e-12, "subset products");
    }

    [Fact]
    public void FastPath_HandlesFlattenAndEvalDropout_OnImageShapedInputs()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(34);
        var x = randn(11, 1, 3, 3, dtype: ScalarType.Float64, generator: g);
        var y = arange(11, dtype: ScalarType.Int64) % 2;
        torch.manual_seed(35);
        var model = Sequential(("0", Flatten()), ("1", Linear(9, 5, dtype: ScalarType.Float64)), ("2", ReLU(inplace: true)),
            ("3", Dropout(0.5)), ("4", Linear(5, 2, dtype: ScalarType.Float64)));
        model.eval();
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.True(ReinforcingGradients.CanUseLinearFastPath(op.Risk));
        // The structure qualifies; the run must not fall back either (every Linear sees a [b, in] input once).
        Assert.NotNull(LinearChain.TryCreate(op.Risk)!.Run(op.Risk, x, null, wantNorms: true, directions: null));
        var gradients = GeometryReferences.ExplicitGradients(model, x);
        var v = GeometryReferences.RandomDirections(op.Dimension, 2, seed: 36);
        Assertions.RelativelyClose(ReinforcingGradients.Norms(op.Risk, x), gradients.norm(1), 1e-12, "norms through flatten, in-place ReLU and dropout");
        Assertions.RelativelyClose(ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v), gradients.mm(v), 1e-12, "products through flatten, in-place ReLU and dropout");
    }

    [Fact]
    public void MseLoss_UsesOneHotOfThePrediction_OnEveryPath()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(17, 3, 3, seed: 37);
        var model = TinyModels.Mlp([3, 5, 3], "sigmoid", seed: 38);
        using var op = new LossHessianOperator(model, LossFunction.MeanSquaredError, DataSource.FromTensors(x, y));
        var gradients = GeometryReferences.ExplicitGradients(model, x, mse: true);
        var v = GeometryReferences.RandomDirections(op.Dimension, 2, seed: 39);
        Assertions.RelativelyClose(ReinforcingGradients.PerSample(op.Risk, x), gradients, 1e-12, "MSE per-sample gradients");
        Assertions.RelativelyClose(ReinforcingGradients.Norms(op.Risk, x), gradients.norm(1), 1e-12, "MSE fast norms");
        Assertions.RelativelyClose(ReinforcingGradients.DirectionalDerivatives(op.Risk, x, v, options: new AlignmentOptions { UseFastDirectionalDerivatives = false }),
            gradients.mm(v), 1e-12, "MSE double-vjp products");
    }

    [Fact]
    public void Directions_WithTheWrongRowCount_AreRefusedBeforeAnyAutograd()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(10, 3, 3, seed: 40);
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 41);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var wrong = zeros(op.Dimension + 1, 2, dtype: ScalarType.Float64);
        var ex = Assert.Throws<ArgumentException>(() => ReinforcingGradients.DirectionalDerivatives(op.Risk, x, wrong));
        Assert.Contains($"[{op.Dimension}, k]", ex.Message);
    }

    [Fact]
    public void ACustomLossThatReducesOverTheBatch_IsRefused()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(10, 3, 3, seed: 42);
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 43);
        var mean = LossFunction.Custom("mean-ce", (o, t) => nn.functional.cross_entropy(o, t), LossReduction.Mean);
        using var op = new LossHessianOperator(model, mean, DataSource.FromTensors(x, y));
        var ex = Assert.Throws<ArgumentException>(() => ReinforcingGradients.Norms(op.Risk, x));
        Assert.Contains("LossReduction.None", ex.Message);
    }
}
