using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using HessianGeometry.Testing;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The analytic MLP GGN engine against a dense GGN built here from its definition, G = (1/n) Σᵢ Jᵢᵀ Aᵢ Jᵢ: the
/// per-sample Jacobian Jᵢ of the logits with respect to the selected parameters by autograd, one output row at a time,
/// and the output-space loss Hessian Aᵢ in closed form (diag(pᵢ) − pᵢpᵢᵀ for softmax cross-entropy, (2/C) I for MSE
/// averaged over the C outputs). Second reference: where the network is linear in the selected parameters away from
/// kinks (one Linear layer of a ReLU net, the last layer of any net), the residual Σ_k ∂ℓ/∂z_k ∇²z_k vanishes and the
/// GGN equals the Hessian of double backward. Third: PyTorch's Jᵀ (∂²L/∂z²) J of the committed MLP fixtures
/// (fixtures/generate_mlp_ggn_fixture.py, autograd Jacobian and loss Hessian, no closed forms).
/// </summary>
public sealed class AnalyticMlpGgnEngineTests
{
    private static (EmpiricalRisk Risk, CurvatureOperator Ggn) Create(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data,
        ParameterSpace? parameters = null, ScalarType? analysisDType = null, HessianGraphMode mode = HessianGraphMode.Auto)
    {
        var risk = new EmpiricalRisk(model, loss, data, parameters, new EmpiricalRiskOptions { AnalysisDType = analysisDType });
        var engine = AnalyticMlpGgnEngine.TryCreate(risk, out var note);
        Assert.True(engine is not null, note);
        Assert.Contains("matched autograd", note);
        return (risk, new CurvatureOperator(risk, engine, mode, note, ownsRisk: true));
    }

    /// <summary>(1/n) Σᵢ Jᵢᵀ Aᵢ Jᵢ over the whole data set, in the risk's dtype, from per-sample Jacobians by autograd.</summary>
    private static Tensor DenseGgn(EmpiricalRisk risk)
    {
        using var scope = NewDisposeScope();
        var parameters = risk.AnalysisParameters.Tensors.ToList();
        var ggn = zeros(risk.Dimension, risk.Dimension, dtype: risk.DType);
        risk.ForEachBatch(batch =>
        {
            var logits = risk.Forward(batch.Inputs);
            var classes = logits.shape[1];
            var probabilities = logits.detach().softmax(1);
            for (long i = 0; i < logits.shape[0]; i++)
            {
                using var sampleScope = NewDisposeScope();
                var rows = new List<Tensor>();
                for (long k = 0; k < classes; k++)
                {
                    var grads = torch.autograd.grad([logits[i, k]], parameters, retain_graph: true, allow_unused: true);
                    rows.Add(cat(grads.Select((g, j) => g is null || g.IsInvalid ? zeros(parameters[j].numel(), dtype: risk.DType) : g.reshape(-1)).ToList(), 0));
                }
                var jacobian = stack(rows, 0);
                var p = probabilities[i];
                var lossHessian = risk.LossFunction.Kind == LossKind.CrossEntropy
                    ? diag(p) - outer(p, p)
                    : eye(classes, dtype: risk.DType) * (2.0 / classes);
                ggn.add_(jacobian.t().mm(lossHessian).mm(jacobian) * batch.Scale);
            }
        });
        return ggn.MoveToOuterDisposeScope();
    }

    private static void AssertMatchesDenseGgn(nn.Module<Tensor, Tensor> model, LossFunction loss, DataSource data, double tolerance,
        ParameterSpace? parameters = null, ScalarType? analysisDType = null)
    {
        var (risk, ggn) = Create(model, loss, data, parameters, analysisDType);
        using (ggn)
        {
            var reference = DenseGgn(risk);
            Assertions.RelativelyClose(ggn.ToDense(), reference, tolerance, "analytic GGN vs (1/n) Σ Jᵢᵀ Aᵢ Jᵢ");
            var block = randn(ggn.Dimension, 3, dtype: ggn.DType, generator: new Generator(61));
            Assertions.RelativelyClose(ggn.ApplyBlock(block), reference.mm(block), tolerance, "block GGN products");
        }
    }

    private static nn.Module<Tensor, Tensor> Mlp(string activation, int[] sizes, long seed) =>
        activation == "silu"
            ? SiluMlp(sizes, seed)
            : TinyModels.Mlp(sizes, activation, seed);

    private static Sequential SiluMlp(int[] sizes, long seed)
    {
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i < sizes.Length - 1; i++)
        {
            layers.Add(($"{2 * i}", nn.Linear(sizes[i], sizes[i + 1], dtype: ScalarType.Float64)));
            if (i < sizes.Length - 2)
                layers.Add(($"{2 * i + 1}", nn.SiLU()));
        }
        var model = nn.Sequential(layers);
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("relu", "ce", null)]
    [InlineData("tanh", "ce", 17)]
    [InlineData("sigmoid", "ce", null)]
    [InlineData("gelu", "ce", 17)]
    [InlineData("silu", "ce", null)]
    [InlineData("relu", "mse", 17)]
    [InlineData("tanh", "mse", null)]
    [InlineData("sigmoid", "mse", 17)]
    [InlineData("gelu", "mse", null)]
    [InlineData("silu", "mse", 17)]
    public void Products_EqualTheDenseGgnFromPerSampleJacobians(string activation, string loss, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 4, seed: 61);
        var model = Mlp(activation, [3, 6, 5, 4], seed: 62);
        AssertMatchesDenseGgn(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, batchSize), 1e-10);
    }

    [Theory]
    [InlineData("mlp_tanh_ce", null)]
    [InlineData("mlp_relu_ce", 5)]
    [InlineData("mlp_gelu_ce", null)]
    [InlineData("mlp_sigmoid_mse", 4)]
    [InlineData("mlp_tanh_mse", null)]
    public void Products_EqualPyTorchsGgn_OfTheMlpFixtures(string fixture, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var file = SafetensorsFile.Read(Tests.Interop.Fixtures.PathOf($"{fixture}.safetensors"));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        var data = DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y"), batchSize);
        var reference = SafetensorsFile.Read(Tests.Interop.Fixtures.PathOf("mlp_ggn_reference.safetensors")).LoadTensor($"{fixture}.ggn");
        var (_, ggn) = Create(model, LossFunction.Parse(file.Metadata["loss"]), data);
        using (ggn)
            Assertions.RelativelyClose(ggn.ToDense(), reference, 1e-10, $"{fixture}: analytic GGN vs PyTorch's Jᵀ∇²ℓJ");
    }

    [Theory]
    [InlineData("2.weight", "ce")]
    [InlineData("0.bias,4.bias", "ce")]
    [InlineData("0.weight,4.bias", "mse")]
    [InlineData("4.weight,4.bias", "ce")]
    [InlineData("0.weight,0.bias", "mse")]
    public void ParameterSubsets_EqualTheDenseGgnOfTheSubset(string names, string loss)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(36, 3, 3, seed: 63);
        var model = TinyModels.Mlp([3, 5, 4, 3], "tanh", seed: 64);
        var selected = names.Split(',');
        AssertMatchesDenseGgn(model, LossFunction.Parse(loss), DataSource.FromTensors(x, y, 20), 1e-10, ParameterSpace.FromModule(model, selected.Contains));
    }

    [Fact]
    public void BiasFreeLayers_IdentityAndEvalDropout_EqualTheDenseGgn()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(65);
        var model = nn.Sequential(
            ("0", nn.Linear(3, 5, hasBias: false, dtype: ScalarType.Float64)),
            ("1", nn.GELU()),
            ("2", nn.Dropout(0.5)),
            ("3", nn.Sequential(("0", nn.Linear(5, 4, dtype: ScalarType.Float64)), ("1", nn.Identity()), ("2", nn.Sigmoid()))),
            ("4", nn.Linear(4, 3, hasBias: false, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 66);
        AssertMatchesDenseGgn(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16), 1e-10);
    }

    [Fact]
    public void Float64AnalysisOfAFloat32Model_EqualsTheDenseGgn_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(40, 3, 3, seed: 67);
        var model = TinyModels.Mlp([3, 7, 3], "tanh", seed: 68, ScalarType.Float32);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        AssertMatchesDenseGgn(model, LossFunction.CrossEntropy, DataSource.FromTensors(x64.to(ScalarType.Float32), y), 1e-10, analysisDType: ScalarType.Float64);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.True(after[i].equal(before[i]).all().item<bool>(), $"parameter {i} changed");
            Assert.Null(after[i].grad);
        }
    }

    [Theory]
    [InlineData("ce")]
    [InlineData("mse")]
    public void Float32Analysis_EqualsTheDenseGgn_ToFloat32Rounding(string loss)
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(48, 4, 3, seed: 69);
        var model = TinyModels.Mlp([4, 12, 12, 3], "gelu", seed: 70, ScalarType.Float32);
        var data = DataSource.FromTensors(x64.to(ScalarType.Float32), y, 32);
        var (risk32, ggn32) = Create(model, LossFunction.Parse(loss), data);
        var (_, ggn64) = Create(model, LossFunction.Parse(loss), data, analysisDType: ScalarType.Float64);
        using (ggn32)
        using (ggn64)
        {
            Assert.Equal(ScalarType.Float32, ggn32.DType);
            var reference = DenseGgn(ggn64.Risk);
            Assertions.RelativelyClose(ggn64.ToDense(), reference, 1e-10, "float64 analysis");
            Assertions.RelativelyClose(ggn32.ToDense(), reference, 1e-5, "float32 analysis");
            Assertions.RelativelyClose(DenseGgn(risk32), reference, 1e-5, "float32 dense reference");
        }
    }

    /// <summary>
    /// H = G + Σ_k (∂L/∂z_k) ∇²_θ z_k. With only one Linear layer of a ReLU net selected, z is piecewise linear in the
    /// selection (ReLU″ = 0 off the kinks), and the last layer enters z linearly for any activation: the residual is zero
    /// and the GGN must equal double backward's Hessian. With every layer selected, z is bilinear across layers and the
    /// residual is not zero: the two must differ, so the comparison can fail.
    /// </summary>
    [Theory]
    [InlineData("relu", "ce", "0.weight,0.bias", true)]
    [InlineData("relu", "mse", "0.weight,0.bias", true)]
    [InlineData("relu", "mse", "2.weight,2.bias", true)]
    [InlineData("tanh", "ce", "4.weight,4.bias", true)]
    [InlineData("relu", "mse", "", false)]
    [InlineData("relu", "ce", "", false)]
    public void WhereTheNetIsLinearInTheSelection_TheGgnIsTheHessian(string activation, string loss, string names, bool equal)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 71);
        var model = TinyModels.Mlp([3, 6, 5, 3], activation, seed: 72);
        var selected = names.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var parameters = selected.Length == 0 ? null : ParameterSpace.FromModule(model, selected.Contains);
        var data = DataSource.FromTensors(x, y, 16);
        var (_, ggn) = Create(model, LossFunction.Parse(loss), data, parameters);
        using (ggn)
        using (var hessian = new LossHessianOperator(model, LossFunction.Parse(loss), data, parameters, new LossHessianOptions { Engine = HvpEngine.DoubleBackward }))
        {
            var g = ggn.ToDense();
            var h = hessian.ToDense();
            if (equal)
            {
                Assertions.RelativelyClose(g, h, 1e-10, "GGN vs Hessian where the residual vanishes");
            }
            else
            {
                var relative = ((g - h).abs().max() / h.abs().max()).item<double>();
                Assert.True(relative > 1e-3, $"the residual H − G of the whole net should not vanish, but differs by only {relative:G3}");
            }
        }
    }

    [Fact]
    public void TheGgn_IsPositiveSemidefinite_WhereTheHessianIsNot()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 73);
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 74);
        var data = DataSource.FromTensors(x, y);
        var (_, ggn) = Create(model, LossFunction.CrossEntropy, data);
        using (ggn)
        using (var hessian = new LossHessianOperator(model, LossFunction.CrossEntropy, data))
        {
            var g = linalg.eigvalsh(ggn.ToDense());
            var h = linalg.eigvalsh(hessian.ToDense());
            var scale = g.abs().max().item<double>();
            Assert.True(g.min().item<double>() >= -1e-12 * scale, $"GGN eigenvalue {g.min().item<double>():G3} < 0");
            Assert.True(h.min().item<double>() < -1e-6 * scale, "the test model's Hessian should be indefinite");
        }
    }

    [Fact]
    public void CachedAndStreamedProducts_Agree_AndLeaveNoLiveTensors()
    {
        var statistics = DisposeScopeManager.Statistics;
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 75);
        var model = TinyModels.Mlp([3, 6, 3], "gelu", seed: 76);
        var (_, streamed) = Create(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16), mode: HessianGraphMode.Streamed);
        var (_, cached) = Create(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, 16), mode: HessianGraphMode.Cached);
        using (streamed)
        using (cached)
        using (var v = randn(streamed.Dimension, dtype: ScalarType.Float64, generator: new Generator(77)))
        using (var block = randn(streamed.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(78)))
        {
            using (var a = streamed.Apply(v))
            using (var b = cached.Apply(v))
                Assertions.RelativelyClose(a, b, 1e-13, "streamed vs cached");
            var live = statistics.ThreadTotalLiveCount;
            for (var i = 0; i < 100; i++)
            {
                streamed.Apply(v).Dispose();
                cached.Apply(v).Dispose();
                streamed.ApplyBlock(block).Dispose();
                cached.ApplyBlock(block).Dispose();
            }
            Assert.Equal(live, statistics.ThreadTotalLiveCount);
        }
        x.Dispose();
        y.Dispose();
    }

    public static TheoryData<string, string> Unsupported => new()
    {
        { "custom-module", "not a Sequential" },
        { "nll-loss", "the loss is nll" },
        { "gelu-tanh", "GELU" },
        { "forward-hook", "forward hooks" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void ModelsTheEngineCannotRead_AreRefused_WithTheReason(string kind, string reason)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 79);
        torch.manual_seed(80);
        var loss = LossFunction.CrossEntropy;
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
            default:
                var last = nn.Linear(4, 3, dtype: ScalarType.Float64);
                last.register_forward_hook((_, _, output) => output * 2);
                model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", nn.Tanh()), ("2", last));
                break;
        }
        model.eval();
        using var risk = new EmpiricalRisk(model, loss, DataSource.FromTensors(x, y));
        Assert.Null(AnalyticMlpGgnEngine.TryCreate(risk, out var note));
        Assert.Contains(reason, note);
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
