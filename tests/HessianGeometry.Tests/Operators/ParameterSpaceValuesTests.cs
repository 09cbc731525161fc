using HessianGeometry.Operators;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

public sealed class ParameterSpaceValuesTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetValues_IsACopy_AlsoForASingleParameter(bool withBias)
    {
        // TorchSharp's cat returns its only input itself, which once made GetValues a view of a lone parameter.
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("0", nn.Linear(3, 2, hasBias: withBias, dtype: ScalarType.Float64)));
        var space = ParameterSpace.FromModule(model);
        var values = space.GetValues();
        var before = values.clone();
        space.SetValues(values + 1);
        Assert.True(values.eq(before).all().item<bool>());
        Assert.True(space.GetValues().eq(before + 1).all().item<bool>());
    }
}
