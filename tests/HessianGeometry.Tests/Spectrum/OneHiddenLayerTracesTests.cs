using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

/// <summary>
/// The closed-form tr(H) and tr(H²) of one-hidden-layer networks against <see cref="ExactTraces.FromMatrix"/> of the
/// dense Hessian built by autograd's double backward, and against the sum of the exact diagonal.
/// </summary>
public sealed class OneHiddenLayerTracesTests
{
    private const double Tolerance = 1e-10;

    private static void AssertTracesMatchDense(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data, ParameterSpace? parameters = null,
        ScalarType? analysisDType = null)
    {
        using var op = ExactHessianDiagonalTests.DoubleBackward(model, loss, data, parameters, analysisDType);
        var traces = OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out var reason);
        Assert.True(traces is not null, reason);
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(op.ToDense());
        AssertRelativelyClose(trace, traces!.Trace, "tr(H)");
        AssertRelativelyClose(traceOfSquare, traces.TraceOfSquare, "tr(H²)");
        Assert.Equal(op.Dimension, traces.Dimension);
        Assert.Equal(op.SampleCount, traces.Samples);
        // The same traces through the c×c matrices K_ij, the route for features too large to hold (forced here).
        var throughPairs = OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, featureElements: 0, out reason);
        Assert.True(throughPairs is not null, reason);
        AssertRelativelyClose(trace, throughPairs!.Trace, "tr(H), pair route");
        AssertRelativelyClose(traceOfSquare, throughPairs.TraceOfSquare, "tr(H²), pair route");
        using var diagonal = ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out _)!;
        AssertRelativelyClose(trace, diagonal.sum().item<double>(), "sum of the exact diagonal");
    }

    private static void AssertRelativelyClose(double expected, double actual, string what)
    {
        var relative = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(relative <= Tolerance, $"{what}: closed form {actual:R} vs dense {expected:R}, relative error {relative:G3} > {Tolerance:G1}.");
    }

    [Theory]
    [InlineData("tanh", "ce")]
    [InlineData("sigmoid", "ce")]
    [InlineData("gelu", "ce")]
    [InlineData("silu", "ce")]
    [InlineData("relu", "ce")]
    [InlineData("tanh", "mse")]
    [InlineData("sigmoid", "mse")]
    [InlineData("gelu", "mse")]
    [InlineData("silu", "mse")]
    [InlineData("relu", "mse")]
    public void EveryActivationAndLoss_EqualsDenseTraces(string activation, string loss)
    {
        using var scope = NewDisposeScope();
        // 37 samples in batches of 10: four batches, the last one short.
        var (x, y) = TinyModels.Blobs(37, 4, 3, seed: 61);
        var model = ExactHessianDiagonalTests.Model([4, 7, 3], activation, seed: 62);
        AssertTracesMatchDense(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, 10));
    }

    [Theory]
    [InlineData("0.weight")]
    [InlineData("0.bias")]
    [InlineData("2.weight")]
    [InlineData("2.bias")]
    [InlineData("0.weight,2.bias")]
    [InlineData("0.bias,2.weight")]
    [InlineData("0.weight,2.weight")]
    [InlineData("0.bias,2.bias")]
    public void ParameterSubsets_EqualDenseTraces(string names)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(33, 3, 4, seed: 63);
        var model = TinyModels.Mlp([3, 6, 4], "tanh", seed: 64);
        var selected = names.Split(',');
        AssertTracesMatchDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 8), ParameterSpace.FromModule(model, selected.Contains));
    }

    [Theory]
    [InlineData("ce")]
    [InlineData("mse")]
    public void BiasFreeLayers_EqualDenseTraces(string loss)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(65);
        var model = nn.Sequential(("0", nn.Linear(4, 6, hasBias: false, dtype: ScalarType.Float64)), ("1", nn.Sigmoid()),
            ("2", nn.Linear(6, 3, hasBias: false, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(29, 4, 3, seed: 66);
        AssertTracesMatchDense(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, 12));
    }

    [Fact]
    public void RegressionTargets_EqualDenseTraces()
    {
        using var scope = NewDisposeScope();
        var (x, _) = TinyModels.Blobs(31, 3, 2, seed: 67);
        var targets = randn(31, 2, dtype: ScalarType.Float64, generator: new Generator(68));
        var model = TinyModels.Mlp([3, 5, 2], "gelu", seed: 69);
        AssertTracesMatchDense(model, LossFunction.MeanSquaredError, DataSource.FromTensors(x, targets, 9));
    }

    [Fact]
    public void ManySamples_SeveralPairBlocks_EqualDenseTraces()
    {
        using var scope = NewDisposeScope();
        // 2,100 samples are more than one block of sample pairs for this width on the K_ij route, so off-diagonal blocks
        // (counted twice) run there, and more than one block of Gram rows (2²² elements / n) on the Gram route.
        var (x, y) = TinyModels.Blobs(2100, 3, 3, seed: 70);
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 71);
        AssertTracesMatchDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 500));
    }

    [Fact]
    public void Float32ModelAnalysedInFloat64_EqualsDenseTraces_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(40, 3, 3, seed: 72);
        var model = TinyModels.Mlp([3, 8, 3], "tanh", seed: 73, ScalarType.Float32);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        AssertTracesMatchDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y, 16), analysisDType: ScalarType.Float64);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.Null(after[i].grad);
            Assert.True(after[i].equal(before[i]).all().item<bool>(), $"parameter {i} changed");
        }
    }

    [Fact]
    public void TwoHiddenLayers_ReturnsNullWithTheReason()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 74);
        using var op = ExactHessianDiagonalTests.DoubleBackward(TinyModels.Mlp([3, 4, 4, 3], "tanh", seed: 75), LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Null(OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("one hidden layer", reason);
        Assert.Contains("Linear(3→4) → Tanh → Linear(4→4) → Tanh → Linear(4→3)", reason);
    }

    [Fact]
    public void NonMlp_ReturnsNullWithTheReason()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(76);
        var model = nn.Sequential(("0", nn.Linear(3, 5, dtype: ScalarType.Float64)), ("1", nn.Softplus()), ("2", nn.Linear(5, 3, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 77);
        using var op = ExactHessianDiagonalTests.DoubleBackward(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Null(OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("Softplus", reason);
    }

    [Fact]
    public void RepeatedRuns_LeaveNoLiveTensorsBehind()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 78);
        using var op = ExactHessianDiagonalTests.DoubleBackward(TinyModels.Mlp([3, 5, 3], "gelu", seed: 79), LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 7));
        OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out _);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++)
        {
            OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, out _);
            OneHiddenLayerTraces.TryCompute(op.Risk, CancellationToken.None, featureElements: 0, out _);
            ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out _)!.Dispose();
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
