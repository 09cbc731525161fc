using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

public sealed class SubmatrixOperatorTests
{
    private static string ModelPath(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    [Fact]
    public void ByModule_GroupsSequentialParameters_ByTheirModulePrefix()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([4, 6, 3], "tanh", seed: 1);
        var groups = ParameterGroups.ByModule(ParameterSpace.FromModule(model));

        Assert.Equal(["0", "2"], groups.Select(g => g.Name));
        Assert.Equal(["0.weight", "0.bias"], groups[0].ParameterNames);
        Assert.Equal([(0L, 30L)], groups[0].Ranges);
        Assert.Equal([(30L, 21L)], groups[1].Ranges);
        Assert.Equal(51, groups.Sum(g => g.Size));
    }

    [Fact]
    public void ByModule_InterleavedModulesAndRootParameters_GetNonContiguousRangesAndTheirOwnGroups()
    {
        using var scope = NewDisposeScope();
        Tensor P(long n) => zeros(n, dtype: ScalarType.Float64).requires_grad_();
        var space = ParameterSpace.FromTensors(["a.w", "b.w", "a.b", "scale", "deep.net.1.weight"], [P(3), P(2), P(4), P(1), P(5)]);
        var groups = ParameterGroups.ByModule(space);

        Assert.Equal(["a", "b", "scale", "deep.net.1"], groups.Select(g => g.Name));
        Assert.Equal([(0L, 3L), (5L, 4L)], groups[0].Ranges);
        Assert.Equal(7, groups[0].Size);
        Assert.Equal([(9L, 1L)], groups[2].Ranges);
    }

    [Fact]
    public void ByModule_TorchScriptModel_UsesPyTorchsModuleNames_AndCoversEveryParameterOnce()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(ModelPath("residual_cnn.pt"));
        var space = ParameterSpace.FromModule(model);
        var groups = ParameterGroups.ByModule(space);
        var expected = model.named_parameters().Select(np => np.name[..np.name.LastIndexOf('.')]).Distinct().ToList();

        Assert.Equal(expected, groups.Select(g => g.Name));
        Assert.Equal(space.Dimension, groups.Sum(g => g.Size));
        Assert.Equal(space.Names.Count, groups.Sum(g => g.ParameterNames.Count));
        Assert.DoesNotContain(groups, g => g.Name.EndsWith("weight", StringComparison.Ordinal) || g.Name.EndsWith("bias", StringComparison.Ordinal));
    }

    [Fact]
    public void Submatrix_OfTheMlpHessian_IsTheDenseDiagonalBlock_AtOneInnerProductPerVector()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 4, 3, seed: 2);
        var model = TinyModels.Mlp([4, 6, 3], "tanh", seed: 3);
        model.eval();
        using var h = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var dense = ExactHessian.Compute(h);
        var space = h.Parameters;
        var space2 = ParameterSpace.FromTensors(["a.w", "b.w", "a.b"], [zeros(20, dtype: ScalarType.Float64).requires_grad_(), zeros(11, dtype: ScalarType.Float64).requires_grad_(), zeros(20, dtype: ScalarType.Float64).requires_grad_()]);
        foreach (var group in ParameterGroups.ByModule(space).Concat(ParameterGroups.ByModule(space2)))
        {
            var block = new SubmatrixOperator(h, group);
            var index = cat(group.Ranges.Select(r => arange(r.Start, r.Start + r.Length, dtype: ScalarType.Int64)).ToList(), 0);
            var reference = dense.index_select(0, index).index_select(1, index);

            var before = h.ApplicationCount;
            var matrix = ExactHessian.Compute(block, blockSize: 7);
            Assert.Equal(group.Size, h.ApplicationCount - before);
            Assert.Equal(group.Size, block.ApplicationCount);
            Assert.True((matrix - reference).abs().max().item<double>() <= 1e-12 * reference.abs().max().item<double>(), $"block {group.Name} differs from the dense block");

            var v = randn(group.Size, dtype: ScalarType.Float64, generator: new Generator(5));
            Assert.True((block.Apply(v) - reference.mv(v)).abs().max().item<double>() <= 1e-11 * (1 + reference.mv(v).abs().max().item<double>()));
        }
    }

    [Fact]
    public void Submatrix_RejectsRangesOutsideTheOperator_WithTheFix()
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(1, 2, 3, 4);
        var ex = Assert.Throws<ArgumentException>(() => new SubmatrixOperator(d, [(2L, 3L)]));
        Assert.Contains("inside [0, 4)", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SubmatrixOperator(d, [(2L, 1L), (0L, 1L)]));
        Assert.Throws<ArgumentException>(() => new SubmatrixOperator(d, Array.Empty<(long, long)>()));
    }
}
