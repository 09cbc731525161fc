using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Landscapes;

public sealed class FilterNormalizedDirectionsTests
{
    [Fact]
    public void Mlp_EveryOutputNeuronRow_HasTheNormOfItsWeights_AndBiasesAreZero()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 1);
        var space = ParameterSpace.FromModule(model);
        using var directions = FilterNormalizedDirections.Create(space, 2, seed: 4);
        for (var k = 0; k < 2; k++)
        {
            Assert.Equal(1.0, directions.Vectors[k].norm().item<double>(), 1e-12);
            AssertFilterNorms(space, directions.Vectors[k] * directions.FilterNormalizedNorms![k], expectOneDimensional: null);
        }
    }

    [Fact]
    public void Cnn_EveryOutputChannel_HasTheNormOfItsKernel_AndBatchNormParametersAreZero()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var model = nn.Sequential(("0", nn.Conv2d(2, 4, 3, dtype: ScalarType.Float64)), ("1", nn.BatchNorm2d(4, dtype: ScalarType.Float64)),
            ("2", nn.ReLU()), ("3", nn.Flatten()), ("4", nn.Linear(4 * 4 * 4, 3, dtype: ScalarType.Float64)));
        model.eval();
        var space = ParameterSpace.FromModule(model);
        Assert.Contains("1.weight", space.Names);
        using var directions = FilterNormalizedDirections.Create(space, 1, seed: 2);
        AssertFilterNorms(space, directions.Vectors[0] * directions.FilterNormalizedNorms![0], expectOneDimensional: null);
    }

    [Fact]
    public void CopyWeights_PutsTheParametersOwnValuesOnTheOneDimensionalOnes()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 1);
        var space = ParameterSpace.FromModule(model);
        using var directions = FilterNormalizedDirections.Create(space, 1, seed: 4, OneDimensionalParameters.CopyWeights);
        AssertFilterNorms(space, directions.Vectors[0] * directions.FilterNormalizedNorms![0], expectOneDimensional: space.GetValues());
    }

    [Fact]
    public void OnlyBiasesSelected_IsRefused()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 1);
        var space = ParameterSpace.FromModule(model, name => name.EndsWith("bias", StringComparison.Ordinal));
        var ex = Assert.Throws<ArgumentException>(() => FilterNormalizedDirections.Create(space, 1, seed: 0));
        Assert.Contains("CopyWeights", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SameSeed_SameDirections()
    {
        using var scope = NewDisposeScope();
        var space = ParameterSpace.FromModule(LandscapeCases.Mlp(seed: 1));
        using var a = FilterNormalizedDirections.Create(space, 2, seed: 9);
        using var b = FilterNormalizedDirections.Create(space, 2, seed: 9);
        Assert.True(a.Vectors[1].eq(b.Vectors[1]).all().item<bool>());
        Assert.False(a.Vectors[0].eq(a.Vectors[1]).all().item<bool>());
    }

    /// <summary>‖d_{i,j}‖ = ‖θ_{i,j}‖ for every filter (row along the first axis) of every parameter of dimension ≥ 2; 1-D parts zero or θ.</summary>
    private static void AssertFilterNorms(ParameterSpace space, Tensor direction, Tensor? expectOneDimensional)
    {
        var d = space.Unflatten(direction);
        var theta = space.Unflatten(space.GetValues());
        var expected1D = expectOneDimensional is null ? null : space.Unflatten(expectOneDimensional);
        var sawOneDimensional = false;
        for (var i = 0; i < d.Length; i++)
        {
            if (d[i].dim() <= 1)
            {
                sawOneDimensional = true;
                var want = expected1D?[i] ?? zeros_like(d[i]);
                Assert.True((d[i] - want).abs().max().item<double>() <= 1e-12, $"1-D parameter {space.Names[i]}");
                continue;
            }
            var dNorms = d[i].reshape(d[i].shape[0], -1).norm(1).data<double>().ToArray();
            var tNorms = theta[i].reshape(theta[i].shape[0], -1).norm(1).data<double>().ToArray();
            for (var r = 0; r < dNorms.Length; r++)
                Assert.True(Math.Abs(dNorms[r] - tNorms[r]) <= 1e-12 * tNorms[r], $"{space.Names[i]} filter {r}: {dNorms[r]} vs {tNorms[r]}");
        }
        Assert.True(sawOneDimensional);
    }
}
