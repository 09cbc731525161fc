using HessianGeometry.Interop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Interop;

public sealed class MlpSpecTests
{
    [Theory]
    [InlineData("mlp:784-128-10:relu", new[] { 784, 128, 10 }, MlpActivation.ReLU, "mlp:784-128-10:relu")]
    [InlineData("mlp:3-5-4-3:tanh", new[] { 3, 5, 4, 3 }, MlpActivation.Tanh, "mlp:3-5-4-3:tanh")]
    [InlineData("MLP:2-1:GELU", new[] { 2, 1 }, MlpActivation.GELU, "mlp:2-1:gelu")]
    [InlineData(" mlp : 4 - 8 - 2 : sigmoid ", new[] { 4, 8, 2 }, MlpActivation.Sigmoid, "mlp:4-8-2:sigmoid")]
    public void Parse_ValidSpec_GivesWidthsActivationAndCanonicalText(string text, int[] sizes, MlpActivation activation, string canonical)
    {
        var spec = MlpSpec.Parse(text);
        Assert.Equal(sizes, spec.LayerSizes);
        Assert.Equal(activation, spec.Activation);
        Assert.Equal(canonical, spec.ToString());
        Assert.Equal(spec, MlpSpec.Parse(spec.ToString()));
        Assert.Equal(spec, new MlpSpec(sizes, activation));
        Assert.Equal(spec.GetHashCode(), new MlpSpec(sizes, activation).GetHashCode());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("mlp", "1 ':'-separated part(s) but needs 3")]
    [InlineData("mlp:3-2", "2 ':'-separated part(s)")]
    [InlineData("mlp:3-2:relu:extra", "4 ':'-separated part(s)")]
    [InlineData("cnn:3-2:relu", "family 'cnn'")]
    [InlineData("mlp:3:relu", "1 layer width(s)")]
    [InlineData("mlp:3-x-2:relu", "Layer width 1 in the model spec 'mlp:3-x-2:relu' is 'x'")]
    [InlineData("mlp:3-0-2:relu", "Layer width 1 in the model spec 'mlp:3-0-2:relu' is '0'")]
    [InlineData("mlp:3--2:relu", "Layer width 1 in the model spec 'mlp:3--2:relu' is ''")]
    [InlineData("mlp:-3-2:relu", "Layer width 0")]
    [InlineData("mlp:3-99999999999-2:relu", "'99999999999', which is not a positive integer")]
    [InlineData("mlp:3-+4-2:relu", "'+4'")]
    [InlineData("mlp:3-2:swish", "activation 'swish'")]
    [InlineData("mlp:3-2:", "activation ''")]
    public void Parse_InvalidSpec_ThrowsFormatException_NamingTheBadPart(string text, string fragment)
    {
        var ex = Assert.Throws<FormatException>(() => MlpSpec.Parse(text));
        Assert.Contains(fragment, ex.Message);
        Assert.False(MlpSpec.TryParse(text, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void Constructor_RejectsTooFewOrNonPositiveWidths()
    {
        Assert.Throws<ArgumentException>(() => new MlpSpec([5], MlpActivation.ReLU));
        Assert.Throws<ArgumentException>(() => new MlpSpec([5, 0, 2], MlpActivation.ReLU));
        Assert.Throws<ArgumentNullException>(() => MlpSpec.Parse(null!));
    }

    [Fact]
    public void Build_NamesParametersLikePyTorchSequential()
    {
        using var scope = NewDisposeScope();
        var spec = MlpSpec.Parse("mlp:3-5-4-2:tanh");
        var model = spec.Build(ScalarType.Float64);
        var parameters = model.named_parameters().ToList();
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], parameters.Select(p => p.name));
        Assert.Equal(spec.ParameterNames, parameters.Select(p => p.name));
        Assert.Equal([5L, 3L], parameters[0].parameter.shape);
        Assert.Equal([2L], parameters[5].parameter.shape);
        Assert.All(parameters, p => Assert.Equal(ScalarType.Float64, p.parameter.dtype));
        Assert.Equal(spec.ParameterCount, parameters.Sum(p => p.parameter.numel()));
        Assert.Equal(3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2, spec.ParameterCount);
        Assert.False(model.training);
        Assert.Equal(ScalarType.Float32, MlpSpec.Parse("mlp:2-2:relu").Build().parameters().First().dtype);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("gelu")]
    [InlineData("sigmoid")]
    public void Build_Forward_EqualsTheFormula(string activation)
    {
        using var scope = NewDisposeScope();
        var model = MlpSpec.Parse($"mlp:3-4-2:{activation}").Build(ScalarType.Float64);
        var x = randn(6, 3, dtype: ScalarType.Float64, generator: new Generator(3));
        var p = model.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter);
        var z = x.matmul(p["0.weight"].T) + p["0.bias"];
        // Written from the definitions, not from TorchSharp's modules: GELU is z·Φ(z) with Φ(z) = (1 + erf(z/√2))/2.
        var a = activation switch
        {
            "relu" => z.clamp_min(0),
            "tanh" => (z.exp() - (-z).exp()) / (z.exp() + (-z).exp()),
            "gelu" => z * 0.5 * (1 + special.erf(z / Math.Sqrt(2))),
            _ => 1 / (1 + (-z).exp()),
        };
        var expected = a.matmul(p["2.weight"].T) + p["2.bias"];
        using var _ = no_grad();
        Assertions.RelativelyClose(model.call(x), expected, 1e-14, activation);
    }

    [Fact]
    public void Build_RejectsANonFloatingDType()
    {
        var ex = Assert.Throws<ArgumentException>(() => MlpSpec.Parse("mlp:2-2:relu").Build(ScalarType.Int64));
        Assert.Contains("Int64", ex.Message);
    }
}
