using HessianGeometry.Models;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators;

/// <summary>
/// A model run in the analysis precision without being modified: itself when the dtypes agree, float64 twins swapped
/// into an eager module's fields during each forward pass (<see cref="PrecisionTwin"/>), or, for a TorchScript module
/// whose parameters are not fields, an independent converted copy.
/// </summary>
internal sealed class ModelInPrecision : IDisposable
{
    private readonly Module model;
    private readonly PrecisionTwin? twin;
    private readonly TorchScriptModel? copy;
    private readonly Module? copyForward;
    private readonly Dictionary<Tensor, Tensor>? copyValues;

    private ModelInPrecision(Module model, ParameterSpace parameters, PrecisionTwin? twin, TorchScriptModel? copy, Module? copyForward, Dictionary<Tensor, Tensor>? copyValues)
    {
        this.model = model;
        Parameters = parameters;
        this.twin = twin;
        this.copy = copy;
        this.copyForward = copyForward;
        this.copyValues = copyValues;
    }

    /// <summary>The selected parameters as the analysis computes with them.</summary>
    public ParameterSpace Parameters { get; }

    public static ModelInPrecision Create(Module model, ParameterSpace selection, ScalarType dtype)
    {
        if (dtype == selection.DType)
            return new ModelInPrecision(model, selection, null, null, null, null);
        // A one-logit TorchScript classifier seen as two classes: convert the script, keep the two-class view on top.
        var script = (model as TwoClassLogits)?.Model as TorchScriptModel ?? model as TorchScriptModel;
        if (script is not null)
        {
            var copy = script.CopyAs(dtype);
            var values = MatchByName(script, copy);
            Module forward = model is TwoClassLogits ? new TwoClassLogits(copy) : copy;
            return new ModelInPrecision(model, ParameterSpace.FromTensors(selection.Names, selection.Tensors.Select(t => values[t]).ToList()), null, copy, forward, values);
        }
        var twin = PrecisionTwin.Create(model, dtype);
        return new ModelInPrecision(model, ParameterSpace.FromTensors(selection.Names, selection.Tensors.Select(twin.For).ToList()), twin, null, null, null);
    }

    /// <summary>The forward pass on prepared inputs.</summary>
    public Tensor Forward(Tensor inputs)
    {
        using var swap = twin?.Enter();
        return (copyForward ?? model).call(inputs);
    }

    /// <summary>The tensor computed with in place of one of the model's parameters or buffers.</summary>
    public Tensor ValueOf(Tensor original) =>
        twin?.For(original) ?? (copyValues is not null && copyValues.TryGetValue(original, out var value) ? value : original);

    public void Dispose()
    {
        twin?.Dispose();
        copy?.Dispose();
    }

    private static Dictionary<Tensor, Tensor> MatchByName(TorchScriptModel original, TorchScriptModel converted)
    {
        var byName = converted.named_parameters().Select(np => (np.name, (Tensor)np.parameter)).Concat(converted.named_buffers())
            .ToDictionary(e => e.Item1, e => e.Item2);
        return original.named_parameters().Select(np => (np.name, (Tensor)np.parameter)).Concat(original.named_buffers())
            .ToDictionary<(string, Tensor), Tensor, Tensor>(e => e.Item2, e => byName[e.Item1], ReferenceEqualityComparer.Instance);
    }
}
