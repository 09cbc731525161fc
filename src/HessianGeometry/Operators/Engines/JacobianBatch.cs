using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// One batch of a Jacobian sandwich C_B = J_Bᵀ M_B J_B (GGN, Fisher), J_B = ∂f/∂θ of the batch's outputs. TorchSharp has
/// no forward-mode AD, so J v comes from the double-vjp trick: with a dummy output-space tensor u that requires grad,
/// g(u) = J_Bᵀ u is built once with <c>create_graph</c>; it is linear in u, so J_B v = ∂⟨g(u), v⟩/∂u is one backward
/// pass through g's graph. Then w = M_B (J_B v), and J_Bᵀ w is one vector-Jacobian product through the forward graph.
/// A product costs two backward passes and never the second-order terms of the Hessian.
/// </summary>
internal sealed class JacobianBatch : IBatchCurvature
{
    private readonly ParameterSpace parameters;
    private readonly Tensor outputs;
    private readonly Tensor dummy;
    private readonly Tensor[] transposed;
    private readonly IOutputSpaceMatrix matrix;

    private JacobianBatch(ParameterSpace parameters, Tensor outputs, Tensor dummy, Tensor[] transposed, IOutputSpaceMatrix matrix)
    {
        this.parameters = parameters;
        this.outputs = outputs;
        this.dummy = dummy;
        this.transposed = transposed;
        this.matrix = matrix;
    }

    /// <summary>
    /// Forwards the batch and builds g(u) = Jᵀu; <paramref name="outputMatrix"/> receives the detached outputs and the
    /// batch and returns M_B.
    /// </summary>
    public static JacobianBatch Prepare(EmpiricalRisk risk, RiskBatch batch, Func<Tensor, RiskBatch, IOutputSpaceMatrix> outputMatrix)
    {
        var space = risk.AnalysisParameters;
        ModelChecks.Differentiable(space);
        var outputs = risk.Forward(batch.Inputs);
        if (!outputs.requires_grad)
            throw new InvalidOperationException("The model's outputs do not depend on any selected parameter (they do not require grad). Check the parameter selection and that the model is not run under no_grad.");
        var matrix = outputMatrix(outputs.detach(), batch);
        try
        {
            var dummy = zeros_like(outputs).requires_grad_(true);
            var grads = torch.autograd.grad([outputs], space.Tensors.ToList(), grad_outputs: [dummy], retain_graph: true, create_graph: true, allow_unused: true);
            var transposed = new Tensor[grads.Count];
            for (var i = 0; i < grads.Count; i++)
            {
                if (grads[i] is null || grads[i].IsInvalid)
                    throw new InvalidOperationException($"Parameter '{space.Names[i]}' is not used by the model's outputs, so its Jacobian does not exist. Exclude it from the parameter selection (ParameterSpace.FromModule(model, name => ...)).");
                transposed[i] = grads[i];
            }
            return new JacobianBatch(space, outputs, dummy, transposed, matrix);
        }
        catch
        {
            matrix.Dispose();
            throw;
        }
    }

    public Tensor Product(Tensor vector, bool keep)
    {
        using var scope = NewDisposeScope();
        var jv = JacobianProduct(vector);
        if (jv is null)
            return zeros_like(vector).MoveToOuterDisposeScope();
        var w = matrix.Apply(jv);
        // A cached graph outlives the checks of the first pass: re-check before the native call, which would abort.
        ModelChecks.Differentiable(parameters);
        var tensors = parameters.Tensors;
        var jtw = torch.autograd.grad([outputs], tensors.ToList(), grad_outputs: [w], retain_graph: keep, create_graph: false, allow_unused: true);
        var parts = new Tensor[jtw.Count];
        for (var i = 0; i < jtw.Count; i++)
            parts[i] = jtw[i] is null || jtw[i].IsInvalid ? zeros_like(tensors[i]) : jtw[i];
        return parameters.Flatten(parts).MoveToOuterDisposeScope();
    }

    /// <summary>J v = ∂⟨Jᵀu, v⟩/∂u, shaped like the outputs; null when no piece of Jᵀu depends on u (J = 0).</summary>
    private Tensor? JacobianProduct(Tensor vector)
    {
        var tensors = parameters.Tensors;
        var pieces = new List<Tensor>(transposed.Length);
        var directions = new List<Tensor>(transposed.Length);
        long offset = 0;
        for (var i = 0; i < transposed.Length; i++)
        {
            var size = tensors[i].numel();
            if (transposed[i].requires_grad)
            {
                pieces.Add(transposed[i]);
                directions.Add(vector.narrow(0, offset, size).reshape(tensors[i].shape));
            }
            offset += size;
        }
        if (pieces.Count == 0)
            return null;
        // Retained: the Jᵀw pass that follows needs the forward graph, and g's graph serves every further product.
        var jv = torch.autograd.grad(pieces, [dummy], grad_outputs: directions, retain_graph: true, create_graph: false, allow_unused: true)[0];
        return jv is null || jv.IsInvalid ? null : jv;
    }

    public IBatchCurvature Detach()
    {
        outputs.DetachFromDisposeScope();
        dummy.DetachFromDisposeScope();
        foreach (var t in transposed)
            t.DetachFromDisposeScope();
        matrix.Detach();
        return this;
    }

    public void Dispose()
    {
        foreach (var t in transposed)
            t.Dispose();
        dummy.Dispose();
        outputs.Dispose();
        matrix.Dispose();
    }
}
