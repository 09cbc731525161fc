using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The analytic R-operator engine against autograd's double backward (itself checked against closed forms, finite
/// differences and PyTorch fixtures in <see cref="LossHessianOperatorTests"/> and <see cref="PyTorchFixtureTests"/>),
/// and its fallback rules.
/// </summary>
public sealed class AnalyticMlpEngineTests
{
    private static LossHessianOperator Operator(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data, HvpEngine engine,
        ParameterSpace? parameters = null, ScalarType? analysisDType = null, bool allowTraining = false) =>
        new(model, loss, data, parameters, new LossHessianOptions { Engine = engine, AnalysisDType = analysisDType, AllowTrainingMode = allowTraining });

    private static void AssertEnginesAgree(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data, double tolerance,
        ParameterSpace? parameters = null, ScalarType? analysisDType = null, int vectors = 3)
    {
        using var analytic = Operator(model, loss, data, HvpEngine.AnalyticMlp, parameters, analysisDType);
        using var reference = Operator(model, loss, data, HvpEngine.DoubleBackward, parameters, analysisDType);
        Assert.Equal(HvpEngine.AnalyticMlp, analytic.Engine);
        Assert.Equal(HvpEngine.DoubleBackward, reference.Engine);
        Assert.Equal(reference.IsGraphCached, analytic.IsGraphCached);
        var generator = new Generator(17);
        for (var i = 0; i < vectors; i++)
        {
            // Repeated products also exercise the cached per-batch quantities.
            var v = randn(analytic.Dimension, dtype: analytic.DType, generator: generator);
            Assertions.RelativelyClose(analytic.Apply(v), reference.Apply(v), tolerance, $"analytic vs double-backward HVP #{i}");
        }
    }

    [Theory]
    [InlineData("relu", "ce", null)]
    [InlineData("tanh", "ce", null)]
    [InlineData("sigmoid", "ce", 17)]
    [InlineData("gelu", "ce", 17)]
    [InlineData("relu", "mse", 17)]
    [InlineData("tanh", "mse", null)]
    [InlineData("gelu", "mse", null)]
    [InlineData("sigmoid", "mse", 17)]
    public void Products_EqualDoubleBackward(string activation, string loss, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(50, 3, 4, seed: 21);
        var model = TinyModels.Mlp([3, 6, 5, 4], activation, seed: 22);
        AssertEnginesAgree(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, batchSize), 1e-11);
    }

    [Fact]
    public void SiluIdentityEvalDropoutAndBiasFreeLayers_EqualDoubleBackward()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(23);
        var model = nn.Sequential(
            ("0", nn.Linear(3, 5, hasBias: false, dtype: ScalarType.Float64)),
            ("1", nn.SiLU()),
            ("2", nn.Dropout(0.5)),
            ("3", nn.Sequential(("0", nn.Linear(5, 4, dtype: ScalarType.Float64)), ("1", nn.Identity()), ("2", nn.Tanh()))),
            ("4", nn.Linear(4, 3, hasBias: false, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 24);
        AssertEnginesAgree(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16), 1e-11);
    }

    [Theory]
    [InlineData("2.weight")]
    [InlineData("0.bias,4.bias")]
    [InlineData("0.weight,4.bias")]
    [InlineData("4.weight,4.bias")]
    public void ParameterSubsets_EqualDoubleBackward(string names)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(45, 3, 3, seed: 25);
        var model = TinyModels.Mlp([3, 5, 4, 3], "tanh", seed: 26);
        var selected = names.Split(',');
        var parameters = ParameterSpace.FromModule(model, selected.Contains);
        AssertEnginesAgree(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 20), 1e-11, parameters);
    }

    [Fact]
    public void Float64AnalysisOfFloat32Model_EqualsDoubleBackward_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(60, 3, 3, seed: 27);
        var x = x64.to(ScalarType.Float32);
        var model = TinyModels.Mlp([3, 8, 3], "tanh", seed: 28, ScalarType.Float32);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var originals = model.parameters().ToList();
        AssertEnginesAgree(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), 1e-11, analysisDType: ScalarType.Float64);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Same(originals[i], after[i]);
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.True(after[i].equal(before[i]).all().item<bool>(), $"parameter {i} changed");
        }
    }

    [Fact]
    public void Float32Products_AgreeWithDoubleBackward_ToFloat32Rounding()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(64, 4, 3, seed: 29);
        var model = TinyModels.Mlp([4, 16, 16, 3], "tanh", seed: 30, ScalarType.Float32);
        AssertEnginesAgree(model, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y, 32), 1e-5);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(13)]
    public void BlockProducts_EqualDoubleBackwardBlocks(int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 31);
        var model = TinyModels.Mlp([3, 6, 3], "gelu", seed: 32);
        var data = DataSource.FromTensors(x, y, batchSize);
        using var analytic = Operator(model, LossFunction.CrossEntropy, data, HvpEngine.Auto);
        using var reference = Operator(model, LossFunction.CrossEntropy, data, HvpEngine.DoubleBackward);
        Assert.Equal(HvpEngine.AnalyticMlp, analytic.Engine);
        var block = randn(analytic.Dimension, 5, dtype: ScalarType.Float64, generator: new Generator(33));
        Assertions.RelativelyClose(analytic.ApplyBlock(block), reference.ApplyBlock(block), 1e-11, "block products");
        Assertions.RelativelyClose(analytic.ToDense(), reference.ToDense(), 1e-11, "dense Hessians");
    }

    [Fact]
    public void Auto_PicksTheAnalyticEngine_ForAPlainMlp_AndSaysHowWellItMatched()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 34);
        using var op = Operator(TinyModels.Mlp([2, 5, 3], "relu", seed: 35), LossFunction.CrossEntropy, DataSource.FromTensors(x, y), HvpEngine.Auto);
        Assert.Equal(HvpEngine.AnalyticMlp, op.Engine);
        Assert.Contains("Linear(2→5) → ReLU → Linear(5→3)", op.EngineNote);
        Assert.Contains("matched double backward", op.EngineNote);
    }

    [Fact]
    public void DoubleBackward_WhenAsked()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 36);
        using var op = Operator(TinyModels.Mlp([2, 5, 3], "relu", seed: 37), LossFunction.CrossEntropy, DataSource.FromTensors(x, y), HvpEngine.DoubleBackward);
        Assert.Equal(HvpEngine.DoubleBackward, op.Engine);
        Assert.Contains("requested", op.EngineNote);
    }

    public static TheoryData<string, string> Unsupported => new()
    {
        { "custom-module", "not a Sequential" },
        { "nll-loss", "the loss is nll" },
        { "gelu-tanh", "GELU" },
        { "training-dropout", "Dropout" },
        { "forward-hook", "forward hooks" },
        { "shared-layer", "occurs twice" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void UnsupportedModels_FallBackUnderAuto_AndAreRefusedWhenTheAnalyticEngineIsRequired(string kind, string reason)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 38);
        torch.manual_seed(39);
        var loss = LossFunction.CrossEntropy;
        var allowTraining = false;
        nn.Module<Tensor, Tensor> model;
        switch (kind)
        {
            case "custom-module":
                model = new TwoLayer();
                break;
            case "nll-loss":
                model = nn.Sequential(("0", nn.Linear(3, 3, dtype: ScalarType.Float64)), ("1", nn.LogSoftmax(1)));
                loss = LossFunction.NegativeLogLikelihood;
                break;
            case "gelu-tanh":
                model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", nn.GELU(GELU.Approximate.tanh)), ("2", nn.Linear(4, 3, dtype: ScalarType.Float64)));
                break;
            case "training-dropout":
                model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", nn.Dropout(0.0)), ("2", nn.Linear(4, 3, dtype: ScalarType.Float64)));
                model.train();
                allowTraining = true;
                break;
            case "shared-layer":
                var shared = nn.Linear(3, 3, dtype: ScalarType.Float64);
                model = nn.Sequential(("0", shared), ("1", nn.Tanh()), ("2", shared));
                break;
            default:
                var last = nn.Linear(4, 3, dtype: ScalarType.Float64);
                // The hook doubles the logits, so the Hessian differs from the plain MLP's: only double backward runs it.
                last.register_forward_hook((_, _, output) => output * 2);
                model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", nn.Tanh()), ("2", last));
                break;
        }
        var data = DataSource.FromTensors(x, y);
        using (var op = Operator(model, loss, data, HvpEngine.Auto, allowTraining: allowTraining))
        {
            Assert.Equal(HvpEngine.DoubleBackward, op.Engine);
            Assert.Contains(reason, op.EngineNote);
        }
        var error = Assert.Throws<NotSupportedException>(() => Operator(model, loss, data, HvpEngine.AnalyticMlp, allowTraining: allowTraining));
        Assert.Contains("HvpEngine.AnalyticMlp cannot run this model", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void HookedModel_UnderAuto_GivesTheHookedHessian()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 40);
        var plain = TinyModels.Mlp([3, 4, 3], "tanh", seed: 41);
        var hooked = TinyModels.Mlp([3, 4, 3], "tanh", seed: 41);
        ((Linear)hooked.children().Last()).register_forward_hook((_, _, output) => output * 2);
        var data = DataSource.FromTensors(x, y);
        using var plainOp = Operator(plain, LossFunction.CrossEntropy, data, HvpEngine.Auto);
        using var hookedOp = Operator(hooked, LossFunction.CrossEntropy, data, HvpEngine.Auto);
        var difference = (plainOp.ToDense() - hookedOp.ToDense()).abs().max().item<double>();
        Assert.True(difference > 1e-3, "the hook did not change the Hessian: the analytic engine ignored it");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DisposingACachedOperator_LeavesTheCallersDataAlone(bool asBatchSequence)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 49);
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 50);
        var data = asBatchSequence ? DataSource.FromBatches([(x, y)]) : DataSource.FromTensors(x, y);
        var op = new LossHessianOperator(model, LossFunction.CrossEntropy, data, options: new LossHessianOptions { GraphMode = HessianGraphMode.Cached });
        Assert.Equal(HvpEngine.AnalyticMlp, op.Engine);
        op.Apply(ones(op.Dimension, dtype: ScalarType.Float64));
        op.Dispose();
        Assert.False(x.IsInvalid);
        Assert.False(y.IsInvalid);
        Assert.Equal(30, x.sum(dim: 1).shape[0]);
    }

    [Fact]
    public void UndefinedEngine_IsRefused_WithTheValidChoices()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 51);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Operator(TinyModels.Mlp([2, 4, 3], "relu", seed: 52), LossFunction.CrossEntropy, DataSource.FromTensors(x, y), (HvpEngine)7));
        Assert.Contains("HvpEngine.Auto, DoubleBackward or AnalyticMlp", error.Message);
    }

    [Fact]
    public void ManyProducts_LeaveNoLiveTensors()
    {
        var statistics = DisposeScopeManager.Statistics;
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 42);
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 43);
        using var streamed = Operator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16), HvpEngine.AnalyticMlp);
        using var cachedOp = Operator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), HvpEngine.AnalyticMlp);
        using var v = randn(streamed.Dimension, dtype: ScalarType.Float64, generator: new Generator(44));
        using var block = randn(streamed.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(45));
        cachedOp.Apply(v).Dispose();
        var live = statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 200; i++)
        {
            streamed.Apply(v).Dispose();
            cachedOp.Apply(v).Dispose();
            streamed.ApplyBlock(block).Dispose();
            cachedOp.ApplyBlock(block).Dispose();
        }
        Assert.Equal(live, statistics.ThreadTotalLiveCount);
        x.Dispose();
        y.Dispose();
    }

    private sealed class TwoLayer : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(3, 4, dtype: ScalarType.Float64);
        private readonly Linear second = nn.Linear(4, 3, dtype: ScalarType.Float64);

        public TwoLayer()
            : base(nameof(TwoLayer)) => RegisterComponents();

        public override Tensor forward(Tensor input) => second.call(first.call(input).tanh());
    }
}
