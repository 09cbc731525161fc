using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

/// <summary>
/// The exact Hessian diagonal by Hessian backpropagation against the diagonal of the dense Hessian built by autograd's
/// double backward (column by column), the independent reference.
/// </summary>
public sealed class ExactHessianDiagonalTests
{
    internal static LossHessianOperator DoubleBackward(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data,
        ParameterSpace? parameters = null, ScalarType? analysisDType = null) =>
        new(model, loss, data, parameters, new LossHessianOptions { Engine = HvpEngine.DoubleBackward, AnalysisDType = analysisDType });

    internal static nn.Module<Tensor, Tensor> Model(int[] sizes, string activation, long seed, ScalarType dtype = ScalarType.Float64)
    {
        if (activation != "silu")
            return TinyModels.Mlp(sizes, activation, seed, dtype);
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < sizes.Length; i++)
        {
            if (i > 0)
                layers.Add(($"{2 * i - 1}", nn.SiLU()));
            layers.Add(($"{2 * i}", nn.Linear(sizes[i], sizes[i + 1], dtype: dtype)));
        }
        var model = nn.Sequential(layers);
        model.eval();
        return model;
    }

    private static void AssertDiagonalMatchesDense(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data, ParameterSpace? parameters = null,
        ScalarType? analysisDType = null, double tolerance = 1e-12)
    {
        using var op = DoubleBackward(model, loss, data, parameters, analysisDType);
        var diagonal = ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason);
        Assert.True(diagonal is not null, reason);
        Assert.Equal(string.Empty, reason);
        Assert.Equal(op.DType, diagonal!.dtype);
        Assert.Equal([op.Dimension], diagonal.shape);
        Assertions.RelativelyClose(diagonal, op.ToDense().diagonal(), tolerance, "exact diagonal vs dense Hessian diagonal");
    }

    [Theory]
    [InlineData("relu", "ce")]
    [InlineData("tanh", "ce")]
    [InlineData("sigmoid", "ce")]
    [InlineData("gelu", "ce")]
    [InlineData("silu", "ce")]
    [InlineData("relu", "mse")]
    [InlineData("tanh", "mse")]
    [InlineData("sigmoid", "mse")]
    [InlineData("gelu", "mse")]
    [InlineData("silu", "mse")]
    public void TwoHiddenLayers_EqualsDenseDiagonal(string activation, string loss)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(50, 3, 4, seed: 41);
        var model = Model([3, 6, 5, 4], activation, seed: 42);
        // 50 samples in batches of 17: three batches, the last one short.
        AssertDiagonalMatchesDense(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, 17));
    }

    [Theory]
    [InlineData("2.weight")]
    [InlineData("0.bias,4.bias")]
    [InlineData("0.weight,4.bias")]
    [InlineData("4.weight,4.bias")]
    [InlineData("2.bias,4.weight")]
    public void ParameterSubsets_EqualDenseDiagonal(string names)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(45, 3, 3, seed: 43);
        var model = TinyModels.Mlp([3, 5, 4, 3], "tanh", seed: 44);
        var selected = names.Split(',');
        AssertDiagonalMatchesDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 20), ParameterSpace.FromModule(model, selected.Contains));
    }

    [Fact]
    public void BiasFreeLayersIdentityAndEvalDropout_EqualDenseDiagonal()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(45);
        var model = nn.Sequential(
            ("0", nn.Linear(3, 5, hasBias: false, dtype: ScalarType.Float64)),
            ("1", nn.SiLU()),
            ("2", nn.Dropout(0.5)),
            ("3", nn.Sequential(("0", nn.Linear(5, 4, dtype: ScalarType.Float64)), ("1", nn.Identity()), ("2", nn.Tanh()))),
            ("4", nn.Linear(4, 3, hasBias: false, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 46);
        AssertDiagonalMatchesDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16));
    }

    [Fact]
    public void Float32ModelAnalysedInFloat64_EqualsDenseDiagonal_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(60, 3, 3, seed: 47);
        var model = TinyModels.Mlp([3, 8, 3], "gelu", seed: 48, ScalarType.Float32);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var originals = model.parameters().ToList();
        AssertDiagonalMatchesDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y, 25), analysisDType: ScalarType.Float64);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Same(originals[i], after[i]);
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.Null(after[i].grad);
            Assert.True(after[i].equal(before[i]).all().item<bool>(), $"parameter {i} changed");
        }
        Assert.False(model.training);
    }

    [Fact]
    public void Float32Analysis_AgreesToFloat32Rounding()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(64, 4, 3, seed: 49);
        var model = TinyModels.Mlp([4, 16, 16, 3], "tanh", seed: 50, ScalarType.Float32);
        AssertDiagonalMatchesDense(model, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y, 32), tolerance: 1e-5);
    }

    [Fact]
    public void NonMlp_ReturnsNullWithTheReason()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(51);
        var model = nn.Sequential(("0", nn.Linear(3, 5, dtype: ScalarType.Float64)), ("1", nn.LayerNorm(5, dtype: ScalarType.Float64)), ("2", nn.Linear(5, 3, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 52);
        using var op = DoubleBackward(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Null(ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("LayerNorm", reason);
    }

    [Fact]
    public void NllLoss_ReturnsNullWithTheReason()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(53);
        var model = nn.Sequential(("0", nn.Linear(3, 5, dtype: ScalarType.Float64)), ("1", nn.Tanh()), ("2", nn.Linear(5, 3, dtype: ScalarType.Float64)), ("3", nn.LogSoftmax(1)));
        model.eval();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 54);
        using var op = DoubleBackward(model, LossFunction.NegativeLogLikelihood, DataSource.FromTensors(x, y));
        Assert.Null(ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("nll", reason);
    }

    [Fact]
    public void ForwardHook_ReturnsNullWithTheReason()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 55);
        ((TorchSharp.Modules.Linear)model.children().Last()).register_forward_hook((_, _, output) => output * 2);
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 56);
        using var op = DoubleBackward(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Null(ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("forward hooks", reason);
    }

    [Fact]
    public void WidthAboveTheLimit_ReturnsNullWithTheThreshold()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([2, 1100, 2], "tanh", seed: 57);
        var (x, y) = TinyModels.Blobs(8, 2, 2, seed: 58);
        using var op = DoubleBackward(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Null(ExactHessianDiagonal.TryCompute(op.Risk, CancellationToken.None, out var reason));
        Assert.Contains("1024", reason);
    }

    [Fact]
    public void Cancellation_Throws()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 59);
        using var op = DoubleBackward(TinyModels.Mlp([3, 4, 3], "tanh", seed: 60), LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => ExactHessianDiagonal.TryCompute(op.Risk, cts.Token, out _));
    }
}
