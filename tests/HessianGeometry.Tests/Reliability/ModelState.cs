using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Everything about a model that an analysis must leave as it found it: the parameter objects themselves, their values
/// bit for bit, dtype, requires_grad, their .grad (set or absent, bit for bit), buffers (batch-norm running statistics,
/// num_batches_tracked) bit for bit, and each module's train/eval flag.
/// </summary>
internal sealed class ModelState
{
    private readonly List<(string Name, Tensor Parameter, ScalarType DType, bool RequiresGrad, byte[] Bytes, byte[]? Grad)> parameters;
    private readonly List<(string Name, bool Training)> modes;
    private readonly List<(string Name, Tensor Buffer, ScalarType DType, byte[] Bytes)> buffers;

    private ModelState(Module model)
    {
        parameters = model.named_parameters()
            .Select(np => (np.name, (Tensor)np.parameter, np.parameter.dtype, np.parameter.requires_grad, Bytes(np.parameter),
                np.parameter.grad is { IsInvalid: false } g ? Bytes(g) : null))
            .ToList();
        buffers = model.named_buffers().Select(nb => (nb.name, nb.buffer, nb.buffer.dtype, Bytes(nb.buffer))).ToList();
        modes = model.named_modules().Select(nm => (nm.name, nm.module.training)).Prepend((string.Empty, model.training)).ToList();
    }

    public static ModelState Of(Module model) => new(model);

    /// <summary>Asserts that <paramref name="model"/> is exactly in this state.</summary>
    public void AssertUnchanged(Module model)
    {
        var now = new ModelState(model);
        Assert.Equal(parameters.Count, now.parameters.Count);
        for (var i = 0; i < parameters.Count; i++)
        {
            var (name, before, dtype, requiresGrad, bytes, grad) = parameters[i];
            var after = now.parameters[i];
            Assert.Equal(name, after.Name);
            Assert.True(ReferenceEquals(before, after.Parameter), $"parameter '{name}' was replaced by another tensor object");
            Assert.Equal(dtype, after.DType);
            Assert.Equal(requiresGrad, after.RequiresGrad);
            Assert.True(bytes.AsSpan().SequenceEqual(after.Bytes), $"the values of parameter '{name}' changed");
            if (grad is null)
                Assert.True(after.Grad is null, $"parameter '{name}' gained a .grad");
            else
                Assert.True(after.Grad is not null && grad.AsSpan().SequenceEqual(after.Grad), $"the .grad of parameter '{name}' changed");
        }
        Assert.Equal(buffers.Count, now.buffers.Count);
        for (var i = 0; i < buffers.Count; i++)
        {
            var (name, buffer, dtype, bytes) = buffers[i];
            var after = now.buffers[i];
            Assert.Equal(name, after.Name);
            Assert.True(ReferenceEquals(buffer, after.Buffer), $"buffer '{name}' was replaced by another tensor object");
            Assert.Equal(dtype, after.DType);
            Assert.True(bytes.AsSpan().SequenceEqual(after.Bytes), $"the values of buffer '{name}' changed");
        }
        Assert.Equal(modes, now.modes);
    }

    private static byte[] Bytes(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().contiguous().bytes.ToArray();
    }
}
