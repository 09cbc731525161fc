using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Models;

/// <summary>
/// A binary classifier with one logit f per sample (trained with <c>BCEWithLogitsLoss</c>) seen as two-class logits
/// [0, f]. softmax([0, f]) = (1 − σ(f), σ(f)), so cross-entropy on them with labels y ∈ {0, 1} is exactly
/// BCEWithLogits(f, y): the same loss of θ, hence the same Hessian, the same GGN (σ(1 − σ)∇f∇fᵀ), the same Fisher,
/// the same decision boundary (the logit gap of the two classes is f) and the same accuracy (class 1 where f &gt; 0). So
/// every measure the library defines for cross-entropy applies unchanged:
/// <c>HessianAnalysis.For(new TwoClassLogits(model))</c> with the default cross-entropy loss and int64 labels 0/1.
/// </summary>
/// <remarks>
/// Parameters, buffers, submodules and train/eval flags are the wrapped model's own, under the same names (nothing is
/// copied or registered twice), so reports, per-layer names and model hashes read as for the model itself. Disposing
/// the wrapper leaves the model alone.
/// </remarks>
public sealed class TwoClassLogits : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> model;

    /// <summary>Wraps <paramref name="model"/>, whose forward returns one logit per sample, shape [n] or [n, 1].</summary>
    public TwoClassLogits(nn.Module<Tensor, Tensor> model)
        : base(nameof(TwoClassLogits))
    {
        Guard.NotNull(model, nameof(model));
        this.model = model;
    }

    /// <summary>The wrapped one-logit model.</summary>
    public nn.Module<Tensor, Tensor> Model => model;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var logit = model.call(input);
        if (logit.dim() == 1)
            logit = logit.unsqueeze(1);
        if (logit.dim() != 2 || logit.shape[1] != 1)
            throw new ArgumentException($"A binary classifier returns one logit per sample ([n] or [n, 1]), but this model returned shape {Guard.Shape(logit)}. " +
                "For two or more classes use cross-entropy on the model itself (CLI: --loss ce).");
        return cat([zeros_like(logit), logit], 1);
    }

    /// <inheritdoc />
    public override IEnumerable<(string name, TorchSharp.Modules.Parameter parameter)> named_parameters(bool recurse = true) => model.named_parameters(recurse);

    /// <inheritdoc />
    public override IEnumerable<TorchSharp.Modules.Parameter> parameters(bool recurse = true) => model.parameters(recurse);

    /// <inheritdoc />
    public override IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true, bool include_nonpersistent = true) =>
        model.named_buffers(recurse, include_nonpersistent);

    /// <inheritdoc />
    public override IEnumerable<Tensor> buffers(bool recurse = true, bool include_nonpersistent = true) => model.buffers(recurse, include_nonpersistent);

    /// <inheritdoc />
    public override IEnumerable<(string name, nn.Module module)> named_modules() => model.named_modules();

    /// <inheritdoc />
    public override IEnumerable<nn.Module> modules() => model.modules();

    /// <inheritdoc />
    public override IEnumerable<(string name, nn.Module module)> named_children() => model.named_children();

    /// <inheritdoc />
    public override IEnumerable<nn.Module> children() => model.children();

    /// <inheritdoc />
    public override bool training => model.training;

    /// <inheritdoc />
    public override void train(bool train = true) => model.train(train);

    /// <inheritdoc />
    public override void eval() => model.eval();

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        model.to(dtype);
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        model.to(deviceType, deviceIndex);
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        model.to(device, dtype);
        return this;
    }

    /// <summary>Leaves the wrapped model alone: the caller owns it.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2215:Dispose methods should call base class dispose",
        Justification = "The base class disposes every parameter and module it enumerates, which here are the caller's model's own; the wrapper holds nothing else.")]
    protected override void Dispose(bool disposing)
    {
    }
}
