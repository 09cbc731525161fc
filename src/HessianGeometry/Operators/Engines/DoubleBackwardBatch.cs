using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// One batch's per-parameter gradients g_i, carrying their graph; H_B v = ∇_θ ⟨g, v⟩ is one backward with the views of v
/// shaped like each parameter as grad_outputs. Passing the pieces rather than a flattened g keeps the reshape and
/// concatenation of the flattening out of the differentiated graph (docs/benchmarks.md).
/// </summary>
internal sealed class DoubleBackwardBatch(ParameterSpace parameters, Tensor[] gradients) : IBatchCurvature
{
    public Tensor Product(Tensor vector, bool keep)
    {
        var tensors = parameters.Tensors;
        var outputs = new List<Tensor>(gradients.Length);
        var directions = new List<Tensor>(gradients.Length);
        long offset = 0;
        for (var i = 0; i < gradients.Length; i++)
        {
            var size = tensors[i].numel();
            // A gradient that is constant in θ contributes H v = 0; autograd rejects outputs without a graph.
            if (gradients[i].requires_grad)
            {
                outputs.Add(gradients[i]);
                directions.Add(vector.narrow(0, offset, size).reshape(tensors[i].shape));
            }
            offset += size;
        }
        if (outputs.Count == 0)
            return zeros_like(vector);
        // A cached graph outlives the checks of the first pass: re-check before the native call, which would abort.
        ModelChecks.Differentiable(parameters);
        var hv = torch.autograd.grad(outputs, tensors.ToList(), grad_outputs: directions, retain_graph: keep, create_graph: false, allow_unused: true);
        var parts = new Tensor[hv.Count];
        for (var i = 0; i < hv.Count; i++)
            parts[i] = hv[i] is null || hv[i].IsInvalid ? zeros_like(tensors[i]) : hv[i];
        return parameters.Flatten(parts);
    }

    public IBatchCurvature Detach()
    {
        foreach (var g in gradients)
            g.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var g in gradients)
            g.Dispose();
    }
}
