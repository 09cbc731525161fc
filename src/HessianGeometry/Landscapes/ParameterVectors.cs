using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Landscapes;

/// <summary>Flat float64 parameter vectors of other models (a second minimum, a checkpoint) in a reference model's parameter order.</summary>
public static class ParameterVectors
{
    /// <summary>
    /// The parameters of <paramref name="model"/> that <paramref name="reference"/> selects, matched by name and checked
    /// for shape, as one float64 vector [p] on the reference's device.
    /// </summary>
    /// <param name="model">Another model of the same architecture.</param>
    /// <param name="reference">The parameter selection of the model the landscape is evaluated on.</param>
    /// <param name="what">How to name the model in messages, e.g. "--other".</param>
    public static Tensor FromModule(Module model, ParameterSpace reference, string what = "the other model")
    {
        Guard.NotNull(model, nameof(model));
        Guard.NotNull(reference, nameof(reference));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var byName = model.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter);
        var pieces = new List<Tensor>();
        for (var i = 0; i < reference.Names.Count; i++)
        {
            var name = reference.Names[i];
            if (!byName.TryGetValue(name, out var t))
                throw new ArgumentException($"{what} has no parameter '{name}' (it has {string.Join(", ", byName.Keys)}). Pass a model of the same architecture.", nameof(model));
            if (!t.shape.SequenceEqual(reference.Shapes[i]))
                throw new ArgumentException($"{what}'s parameter '{name}' has shape [{string.Join(", ", t.shape)}] but the model's has [{string.Join(", ", reference.Shapes[i])}]. Pass a model of the same architecture.", nameof(model));
            Guard.AllFinite(t, $"{what}'s parameter '{name}'", "Pass a finite checkpoint.");
            pieces.Add(t.detach().to(ScalarType.Float64).to(reference.Device).reshape(-1));
        }
        return cat(pieces, 0).MoveToOuterDisposeScope();
    }
}
