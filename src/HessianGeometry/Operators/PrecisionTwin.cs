using System.Reflection;
using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Operators;

/// <summary>
/// Runs a model in a higher precision without touching it: float64 copies of its parameters and buffers are swapped
/// into the module's fields only while the analysis runs forward passes, and the original objects (which an optimizer
/// may hold) are put back afterwards, unmodified. This is how a float32 model is analysed in float64: on a well-trained
/// model float32 softmax saturates and zeroes many per-sample gradients.
/// </summary>
internal sealed class PrecisionTwin : IDisposable
{
    private readonly List<(object Owner, FieldInfo Field, Tensor Original, Tensor Replacement)> slots = [];
    private readonly Dictionary<Tensor, Tensor> replacements = new(ReferenceEqualityComparer.Instance);
    private int depth;

    private PrecisionTwin(ScalarType dtype) => DType = dtype;

    public ScalarType DType { get; }

    public static PrecisionTwin Create(Module module, ScalarType dtype)
    {
        var twin = new PrecisionTwin(dtype);
        using (no_grad())
        {
            foreach (var (name, p) in module.named_parameters())
            {
                var copy = new TorchSharp.Modules.Parameter(p.detach().to(dtype).clone(), p.requires_grad);
                twin.replacements[p] = copy;
            }
            foreach (var (name, b) in module.named_buffers())
            {
                var copy = b.is_floating_point() ? b.detach().to(dtype).clone() : b.detach().clone();
                twin.replacements[b] = copy;
            }
        }
        foreach (var r in twin.replacements.Values)
            r.DetachFromDisposeScope();

        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var found = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var m in new[] { module }.Concat(module.modules()))
        {
            if (!seen.Add(m))
                continue;
            for (var type = m.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (!typeof(Tensor).IsAssignableFrom(field.FieldType))
                        continue;
                    if (field.GetValue(m) is Tensor value && twin.replacements.TryGetValue(value, out var replacement)
                        && field.FieldType.IsInstanceOfType(replacement))
                    {
                        twin.slots.Add((m, field, value, replacement));
                        found.Add(value);
                    }
                }
            }
        }
        var missing = module.named_parameters().Where(np => !found.Contains(np.parameter)).Select(np => np.name).ToList();
        if (missing.Count > 0)
        {
            twin.Dispose();
            throw new NotSupportedException(
                $"Cannot analyse this {module.GetType().Name} in {dtype} without modifying it: parameter(s) {string.Join(", ", missing)} are not held in fields of its modules. " +
                $"Convert a copy of the model yourself (model.to({dtype})) and analyse that, or analyse in the model's own dtype.");
        }
        return twin;
    }

    /// <summary>The twin of an original parameter or buffer.</summary>
    public Tensor For(Tensor original) => replacements[original];

    /// <summary>Swaps the twins in; disposing the returned token swaps the originals back. Re-entrant.</summary>
    public IDisposable Enter()
    {
        if (depth++ == 0)
        {
            foreach (var s in slots)
                s.Field.SetValue(s.Owner, s.Replacement);
        }
        return new Exit(this);
    }

    private void Leave()
    {
        if (--depth == 0)
        {
            foreach (var s in slots)
                s.Field.SetValue(s.Owner, s.Original);
        }
    }

    public void Dispose()
    {
        foreach (var r in replacements.Values)
            r.Dispose();
        replacements.Clear();
    }

    private sealed class Exit(PrecisionTwin twin) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done)
                return;
            done = true;
            twin.Leave();
        }
    }
}
