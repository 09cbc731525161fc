using HessianGeometry.Operators;
using TorchSharp.Modules;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Internal;

/// <summary>
/// One leaf of a <c>Sequential</c> as the per-layer formulas see it: the module and, for a Linear layer, where its
/// selected weight and bias sit in the parameter space (index −1 when not selected).
/// </summary>
internal sealed record SequentialLayer(Module Module, int WeightIndex, int BiasIndex)
{
    /// <summary>The module as a Linear layer, or null.</summary>
    public Linear? Linear => Module as Linear;

    /// <summary>True for a Linear layer with a selected weight or bias.</summary>
    public bool HasSelectedParameters => WeightIndex >= 0 || BiasIndex >= 0;

    /// <summary>
    /// The leaves of <paramref name="model"/> in call order with the positions of their selected parameters, or null
    /// with the reason: the model is not a <c>Sequential</c>, or a module occurs twice. The one reader behind the analytic
    /// HVP engine and the per-sample Linear fast path, so both agree on which models qualify.
    /// </summary>
    public static IReadOnlyList<SequentialLayer>? Read(Module model, ParameterSpace selection, out string reason)
    {
        var leaves = SequentialLeaves.Of(model, out reason);
        return leaves?.Select(leaf => new SequentialLayer(
            leaf,
            leaf is Linear { weight: { } w } ? selection.IndexOf(w) : -1,
            leaf is Linear { bias: { } b } ? selection.IndexOf(b) : -1)).ToList();
    }

    /// <summary>True when every selected parameter is the weight or bias of one of the Linear layers.</summary>
    public static bool CoverSelection(IReadOnlyList<SequentialLayer> layers, ParameterSpace selection) =>
        layers.Sum(l => (l.WeightIndex >= 0 ? 1 : 0) + (l.BiasIndex >= 0 ? 1 : 0)) == selection.Tensors.Count;
}
