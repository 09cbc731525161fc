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
/// <para>
/// A cached batch (after <see cref="Detach"/>) that has served enough products switches to a
/// <see cref="MaterialisedJacobian"/> when it fits the memory budget (the rule is in
/// <see cref="JacobianMaterialisation"/>): J_B is built once, the autograd graphs are freed, and every further product is
/// two matrix–vector products. Both paths compute the same J_Bᵀ M_B J_B v up to round-off.
/// </para>
/// </summary>
internal sealed class JacobianBatch : IBatchCurvature
{
    private readonly ParameterSpace parameters;
    private readonly Tensor outputs;
    private readonly Tensor dummy;
    private readonly Tensor[] transposed;
    private readonly IOutputSpaceMatrix matrix;
    private readonly JacobianMaterialisation? materialisation;
    private bool cached;
    private bool refused;
    private long served;
    private long reservedBytes;
    private MaterialisedJacobian? jacobian;

    private JacobianBatch(ParameterSpace parameters, Tensor outputs, Tensor dummy, Tensor[] transposed, IOutputSpaceMatrix matrix, JacobianMaterialisation? materialisation)
    {
        this.parameters = parameters;
        this.outputs = outputs;
        this.dummy = dummy;
        this.transposed = transposed;
        this.matrix = matrix;
        this.materialisation = materialisation;
    }

    /// <summary>True once this batch runs on a materialised Jacobian.</summary>
    public bool IsMaterialised => jacobian is not null;

    /// <summary>
    /// Forwards the batch and builds g(u) = Jᵀu; <paramref name="outputMatrix"/> receives the detached outputs and the
    /// batch and returns M_B. <paramref name="materialisation"/> (null: never) decides when a cached batch builds J_B.
    /// </summary>
    public static JacobianBatch Prepare(EmpiricalRisk risk, RiskBatch batch, Func<Tensor, RiskBatch, IOutputSpaceMatrix> outputMatrix, JacobianMaterialisation? materialisation = null)
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
            return new JacobianBatch(space, outputs, dummy, transposed, matrix, materialisation);
        }
        catch
        {
            matrix.Dispose();
            throw;
        }
    }

    public Tensor Product(Tensor vector, bool keep)
    {
        if (Materialised(1) is { } materialised)
            return materialised.Product(vector, matrix);
        served++;
        return AutogradProduct(vector, keep);
    }

    public void AddProductRows(Tensor rows, Tensor sum, bool keep)
    {
        var k = rows.shape[0];
        if (Materialised(k) is { } materialised)
        {
            materialised.AddProductRows(rows, sum, matrix);
            return;
        }
        for (long j = 0; j < k; j++)
        {
            using var scope = NewDisposeScope();
            served++;
            sum[j].add_(AutogradProduct(rows[j], keep || j < k - 1));
        }
    }

    /// <summary>
    /// The materialised Jacobian, built now when this cached batch is asked for <paramref name="incoming"/> products and
    /// the rule says it pays off and fits; null for the autograd path. Once built, the autograd graphs are freed.
    /// </summary>
    private MaterialisedJacobian? Materialised(long incoming)
    {
        if (jacobian is not null || !cached || refused || materialisation is null || !materialisation.PaysOff(outputs.numel(), served, incoming))
            return jacobian;
        var bytes = MaterialisedJacobian.Bytes(outputs, parameters.Dimension);
        if (!materialisation.TryReserve(bytes))
        {
            refused = true;
            return null;
        }
        try
        {
            jacobian = MaterialisedJacobian.Build(parameters, outputs);
        }
        catch
        {
            materialisation.Release(bytes);
            refused = true;
            throw;
        }
        reservedBytes = bytes;
        // The graphs of f and of Jᵀu are no longer needed: free the activations they hold.
        DisposeGraph();
        return jacobian;
    }

    private Tensor AutogradProduct(Tensor vector, bool keep)
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
        cached = true;
        outputs.DetachFromDisposeScope();
        dummy.DetachFromDisposeScope();
        foreach (var t in transposed)
            t.DetachFromDisposeScope();
        matrix.Detach();
        return this;
    }

    public void Dispose()
    {
        DisposeGraph();
        matrix.Dispose();
        if (jacobian is not null)
        {
            jacobian.Dispose();
            jacobian = null;
            materialisation?.Release(reservedBytes);
        }
    }

    private void DisposeGraph()
    {
        foreach (var t in transposed)
            t.Dispose();
        dummy.Dispose();
        outputs.Dispose();
    }
}
