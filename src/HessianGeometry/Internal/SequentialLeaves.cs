using TorchSharp.Modules;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Internal;

/// <summary>
/// The leaf modules of a <c>Sequential</c>, nested <c>Sequential</c>s flattened, in call order: the layer list that the
/// closed-form per-layer formulas (per-sample gradients, the analytic HVP engine) walk.
/// </summary>
internal static class SequentialLeaves
{
    /// <summary>
    /// The leaves, or null with the reason: the model is not a <c>Sequential</c>, or a module occurs twice (its weights
    /// are shared between two places, so its derivative is a sum that per-layer formulas would miss).
    /// </summary>
    public static List<Module>? Of(Module model, out string reason)
    {
        if (model is not Sequential sequential)
        {
            reason = $"the model is a {model.GetType().Name}, not a Sequential of layers";
            return null;
        }
        var leaves = new List<Module>();
        Flatten(sequential, leaves);
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var repeated = leaves.FirstOrDefault(leaf => !seen.Add(leaf));
        if (repeated is not null)
        {
            reason = $"a {repeated.GetType().Name} occurs twice in the Sequential (shared weights)";
            return null;
        }
        reason = "";
        return leaves;
    }

    private static void Flatten(Sequential sequential, List<Module> leaves)
    {
        foreach (var (_, child) in sequential.named_children())
        {
            if (child is Sequential nested)
                Flatten(nested, leaves);
            else
                leaves.Add(child);
        }
    }
}
