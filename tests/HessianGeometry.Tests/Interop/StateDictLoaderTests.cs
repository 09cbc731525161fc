using HessianGeometry.Interop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Interop;

public sealed class StateDictLoaderTests
{
    private static readonly MlpSpec Spec = MlpSpec.Parse("mlp:3-4-2:tanh");

    /// <summary>A state dict for <see cref="Spec"/> with values unlike any default initialisation, keyed as PyTorch would.</summary>
    private static Dictionary<string, Tensor> StateDict(ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator(11);
        return new Dictionary<string, Tensor>
        {
            ["0.weight"] = randn(4, 3, dtype: dtype, generator: g) + 10,
            ["0.bias"] = randn(4, dtype: dtype, generator: g) + 10,
            ["2.weight"] = randn(2, 4, dtype: dtype, generator: g) + 10,
            ["2.bias"] = randn(2, dtype: dtype, generator: g) + 10,
        };
    }

    private static SafetensorsFile Saved(Dictionary<string, Tensor> tensors)
    {
        var stream = new MemoryStream();
        SafetensorsWriter.WriteTo(stream, tensors);
        stream.Position = 0;
        return SafetensorsFile.ReadFrom(stream);
    }

    private static List<Tensor> Snapshot(nn.Module model) => model.parameters().Select(p => p.detach().clone()).ToList();

    private static void AssertUnchanged(nn.Module model, List<Tensor> before)
    {
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
            Assert.True(after[i].detach().eq(before[i]).all().item<bool>(), $"parameter {i} was modified by a failed load");
    }

    [Fact]
    public void Load_CopiesEveryTensorIntoTheParameterOfTheSameName_KeepingTheParameterObjects()
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        var model = Spec.Build(ScalarType.Float64);
        var objects = model.parameters().ToList();
        var report = StateDictLoader.Load(model, Saved(state));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], report.Loaded);
        Assert.Empty(report.MissingKeys);
        Assert.Empty(report.UnexpectedKeys);
        foreach (var (name, parameter) in model.named_parameters())
            SafetensorsReaderTests.AssertIdentical(state[name], parameter.detach(), name);
        Assert.Equal(objects, model.parameters().ToList(), ReferenceEqualityComparer.Instance);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void Load_ConvertsToTheParameterDType()
    {
        using var scope = NewDisposeScope();
        var state = StateDict(ScalarType.Float32);
        var model = Spec.Build(ScalarType.Float64);
        StateDictLoader.Load(model, Saved(state));
        var w = model.named_parameters().First().parameter;
        Assert.Equal(ScalarType.Float64, w.dtype);
        SafetensorsReaderTests.AssertIdentical(state["0.weight"].to(ScalarType.Float64), w.detach(), "0.weight");
    }

    [Fact]
    public void MissingKey_InStrictMode_ThrowsNamingIt_AndLeavesTheModelUnchanged()
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        state.Remove("2.bias");
        var model = Spec.Build(ScalarType.Float64);
        var before = Snapshot(model);
        var ex = Assert.Throws<ArgumentException>(() => StateDictLoader.Load(model, Saved(state)));
        Assert.Contains("missing keys (in the module, not in the file): 2.bias", ex.Message);
        Assert.DoesNotContain("unexpected", ex.Message);
        AssertUnchanged(model, before);
    }

    [Fact]
    public void UnexpectedKey_InStrictMode_ThrowsNamingIt_AndLeavesTheModelUnchanged()
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        state["4.weight"] = ones(2, 2, dtype: ScalarType.Float64);
        var model = Spec.Build(ScalarType.Float64);
        var before = Snapshot(model);
        var ex = Assert.Throws<ArgumentException>(() => StateDictLoader.Load(model, Saved(state)));
        Assert.Contains("unexpected keys (in the file, not in the module): 4.weight", ex.Message);
        AssertUnchanged(model, before);
    }

    [Fact]
    public void NonStrictLoad_LoadsTheMatchingKeys_AndReportsTheRest()
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        state.Remove("0.bias");
        state["extra"] = ones(1);
        var model = Spec.Build(ScalarType.Float64);
        var biasBefore = model.named_parameters().Single(np => np.name == "0.bias").parameter.detach().clone();
        var report = StateDictLoader.Load(model, Saved(state), strict: false);
        Assert.Equal(["0.weight", "2.weight", "2.bias"], report.Loaded);
        Assert.Equal(["0.bias"], report.MissingKeys);
        Assert.Equal(["extra"], report.UnexpectedKeys);
        SafetensorsReaderTests.AssertIdentical(biasBefore, model.named_parameters().Single(np => np.name == "0.bias").parameter.detach(), "0.bias");
        SafetensorsReaderTests.AssertIdentical(state["2.bias"], model.named_parameters().Single(np => np.name == "2.bias").parameter.detach(), "2.bias");
    }

    [Fact]
    public void ShapeMismatch_ThrowsListingEveryOffender_EvenWhenNotStrict_BeforeCopyingAnything()
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        state["2.weight"] = zeros(3, 4, dtype: ScalarType.Float64);
        state["2.bias"] = zeros(3, dtype: ScalarType.Float64);
        var model = Spec.Build(ScalarType.Float64);
        var before = Snapshot(model);
        foreach (var strict in new[] { true, false })
        {
            var ex = Assert.Throws<ArgumentException>(() => StateDictLoader.Load(model, Saved(state), strict));
            Assert.Contains("'2.weight': file [3, 4] vs module [2, 4]", ex.Message);
            Assert.Contains("'2.bias': file [3] vs module [2]", ex.Message);
            Assert.Contains("2 of 4", ex.Message);
            // 0.weight comes first and fits, yet it must not have been copied.
            AssertUnchanged(model, before);
        }
    }

    [Fact]
    public void Buffers_AreLoadedByName_AndFloatsAreRefusedForIntegerBuffers()
    {
        using var scope = NewDisposeScope();
        // Default dtypes: TorchSharp then keeps num_batches_tracked Int64, as PyTorch does.
        var model = nn.Sequential(("0", nn.Linear(2, 3)), ("1", nn.BatchNorm1d(3)));
        model.eval();
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone() + 2);
        var report = StateDictLoader.Load(model, Saved(state));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"], report.Loaded);
        var buffers = model.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        Assert.Equal(ScalarType.Int64, buffers["1.num_batches_tracked"].dtype);
        SafetensorsReaderTests.AssertIdentical(state["1.running_var"], buffers["1.running_var"], "running_var");
        Assert.Equal(2L, buffers["1.num_batches_tracked"].item<long>());

        state["1.num_batches_tracked"] = tensor(2.5f);
        var ex = Assert.Throws<ArgumentException>(() => StateDictLoader.Load(model, Saved(state)));
        Assert.Contains("'1.num_batches_tracked': file dtype F32 cannot be copied into the module's Int64", ex.Message);
    }

    [Fact]
    public void Prefix_SelectsTheNestedStateDict_AndIgnoresOtherKeys()
    {
        using var scope = NewDisposeScope();
        var nested = StateDict().ToDictionary(kv => "model." + kv.Key, kv => kv.Value);
        nested["data.x"] = ones(5, 3);
        var model = Spec.Build(ScalarType.Float64);
        var report = StateDictLoader.Load(model, Saved(nested), prefix: "model.");
        Assert.Equal(4, report.Loaded.Count);
        var ex = Assert.Throws<ArgumentException>(() => StateDictLoader.Load(Spec.Build(ScalarType.Float64), Saved(nested)));
        Assert.Contains("model.0.weight", ex.Message);
        Assert.Contains("pass the prefix", ex.Message);
    }
}
