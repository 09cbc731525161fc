using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Interop;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The loss Hessian, gradient and loss of tiny float64 MLPs agree with PyTorch's own
/// (torch.autograd.functional.hessian of the mean loss; see fixtures/generate_fixtures.py). The model is rebuilt from
/// its spec and state dict, so this also checks parameter naming, ordering and flattening against PyTorch.
/// </summary>
public sealed class PyTorchFixtureTests(ITestOutputHelper output)
{
    /// <summary>float64 double backward vs float64 autograd: only summation order differs.</summary>
    private const double Tolerance = 1e-10;

    public static TheoryData<string> Fixtures => new()
    {
        "mlp_tanh_ce.safetensors",
        "mlp_relu_ce.safetensors",
        "mlp_gelu_ce.safetensors",
        "mlp_sigmoid_mse.safetensors",
        "mlp_tanh_mse.safetensors",
    };

    /// <summary>Every fixture on both product engines: each is checked against PyTorch on its own.</summary>
    public static TheoryData<string, HvpEngine> FixturesByEngine
    {
        get
        {
            var data = new TheoryData<string, HvpEngine>();
            foreach (var fixture in Fixtures)
            {
                data.Add((string)fixture, HvpEngine.DoubleBackward);
                data.Add((string)fixture, HvpEngine.AnalyticMlp);
            }
            return data;
        }
    }

    private sealed record Loaded(SafetensorsFile File, LossHessianOperator Operator) : IDisposable
    {
        public Tensor Reference(string name) => File.LoadTensor("reference." + name);

        public void Dispose() => Operator.Dispose();
    }

    private static Loaded Load(string fixture, int? batchSize = null, HvpEngine engine = HvpEngine.Auto)
    {
        var file = SafetensorsFile.Read(Interop.Fixtures.PathOf(fixture));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        var data = DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y"), batchSize);
        var op = new LossHessianOperator(model, LossFunction.Parse(file.Metadata["loss"]), data, options: new LossHessianOptions { Engine = engine });
        if (engine != HvpEngine.Auto)
            Assert.Equal(engine, op.Engine);
        return new Loaded(file, op);
    }

    [Theory]
    [MemberData(nameof(FixturesByEngine))]
    public void ExactHessian_MatchesPyTorchAutograd(string fixture, HvpEngine engine)
    {
        using var scope = NewDisposeScope();
        using var loaded = Load(fixture, engine: engine);
        Assert.Equal(loaded.File.Metadata["parameter_order"], string.Join(",", loaded.Operator.Parameters.Names));
        var reference = loaded.Reference("hessian");
        Assert.Equal([loaded.Operator.Dimension, loaded.Operator.Dimension], reference.shape);
        var hessian = ExactHessian.Build(loaded.Operator, build: ExactHessianBuild.BlockProducts).Matrix; // the engines' products, not the structural build
        output.WriteLine($"{fixture} ({engine}): p = {loaded.Operator.Dimension}, relative error of H = {RelativeError(hessian, reference):G3}");
        Assertions.RelativelyClose(hessian, reference, Tolerance, $"{fixture}: Hessian");
        Assert.Equal(loaded.Operator.Dimension, loaded.Operator.ApplicationCount);
    }

    [Theory]
    [InlineData("mlp_relu_ce.safetensors", HvpEngine.DoubleBackward)]
    [InlineData("mlp_tanh_mse.safetensors", HvpEngine.DoubleBackward)]
    [InlineData("mlp_relu_ce.safetensors", HvpEngine.AnalyticMlp)]
    [InlineData("mlp_tanh_mse.safetensors", HvpEngine.AnalyticMlp)]
    public void StreamedHessian_OverUnevenMiniBatches_MatchesPyTorchAutograd(string fixture, HvpEngine engine)
    {
        using var scope = NewDisposeScope();
        using var loaded = Load(fixture, batchSize: 5, engine: engine);
        Assert.False(loaded.Operator.IsGraphCached);
        Assertions.RelativelyClose(ExactHessian.Compute(loaded.Operator, blockSize: 16), loaded.Reference("hessian"), Tolerance, $"{fixture}: streamed Hessian");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GradientAndLoss_MatchPyTorch(string fixture)
    {
        using var scope = NewDisposeScope();
        using var loaded = Load(fixture);
        var gradient = loaded.Operator.Gradient();
        output.WriteLine($"{fixture}: relative error of the gradient = {RelativeError(gradient, loaded.Reference("gradient")):G3}");
        Assertions.RelativelyClose(gradient, loaded.Reference("gradient"), Tolerance, $"{fixture}: gradient");
        var expected = loaded.Reference("loss").item<double>();
        var loss = loaded.Operator.Loss();
        Assert.True(Math.Abs(loss - expected) <= Tolerance * Math.Abs(expected), $"{fixture}: loss {loss:R} vs PyTorch {expected:R}");
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}
