using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// A batch's Jacobian J_B = ∂f/∂θ as a dense matrix [m, p] (m output entries, rows in the outputs' row-major order,
/// columns in the parameter space's flat order), built by m vector-Jacobian products J_Bᵀ e_r through the retained
/// forward graph. A sandwich product is then J_Bᵀ (M_B (J_B v)): two matrix–vector products and M_B, no autograd.
/// </summary>
internal sealed class MaterialisedJacobian : IDisposable
{
    private readonly Tensor jacobian;
    private readonly long[] outputShape;

    private MaterialisedJacobian(Tensor jacobian, long[] outputShape)
    {
        this.jacobian = jacobian;
        this.outputShape = outputShape;
    }

    /// <summary>Bytes J_B takes for <paramref name="outputs"/> [b, …] and <paramref name="dimension"/> parameters.</summary>
    public static long Bytes(Tensor outputs, long dimension) => outputs.numel() * dimension * outputs.element_size();

    /// <summary>
    /// Builds J_B row by row, detached from every dispose scope (the caller owns it); the forward graph of
    /// <paramref name="outputs"/> is retained.
    /// </summary>
    public static MaterialisedJacobian Build(ParameterSpace parameters, Tensor outputs)
    {
        var m = outputs.numel();
        var tensors = parameters.Tensors.ToList();
        var jacobian = zeros(m, parameters.Dimension, dtype: outputs.dtype, device: outputs.device).DetachFromDisposeScope();
        try
        {
            for (long r = 0; r < m; r++)
            {
                using var scope = NewDisposeScope();
                // A cached graph outlives the checks of the first pass: re-check before the native call, which would abort.
                ModelChecks.Differentiable(parameters);
                var direction = zeros(m, dtype: outputs.dtype, device: outputs.device);
                direction[r].fill_(1.0);
                var rows = torch.autograd.grad([outputs], tensors, grad_outputs: [direction.reshape(outputs.shape)], retain_graph: true, create_graph: false, allow_unused: true);
                var parts = new Tensor[rows.Count];
                for (var i = 0; i < rows.Count; i++)
                    parts[i] = rows[i] is null || rows[i].IsInvalid ? zeros_like(tensors[i]) : rows[i];
                jacobian[r].copy_(parameters.Flatten(parts));
            }
        }
        catch
        {
            jacobian.Dispose();
            throw;
        }
        return new MaterialisedJacobian(jacobian, outputs.shape);
    }

    /// <summary>J_Bᵀ M_B J_B v, flat [p], in the caller's dispose scope.</summary>
    public Tensor Product(Tensor vector, IOutputSpaceMatrix matrix)
    {
        using var scope = NewDisposeScope();
        var jv = jacobian.mv(vector).reshape(outputShape);
        var w = matrix.Apply(jv).reshape(-1);
        return jacobian.T.mv(w).MoveToOuterDisposeScope();
    }

    /// <summary>Adds J_Bᵀ M_B J_B v_j to row j of <paramref name="sum"/> [k, p] for the rows v_j of <paramref name="rows"/> [k, p].</summary>
    public void AddProductRows(Tensor rows, Tensor sum, IOutputSpaceMatrix matrix)
    {
        using var scope = NewDisposeScope();
        var jv = rows.matmul(jacobian.T);
        var k = rows.shape[0];
        var w = new Tensor[k];
        for (long j = 0; j < k; j++)
            w[j] = matrix.Apply(jv[j].reshape(outputShape)).reshape(-1);
        sum.add_(stack(w).matmul(jacobian));
    }

    public void Dispose() => jacobian.Dispose();
}
