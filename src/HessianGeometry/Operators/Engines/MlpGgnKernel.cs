using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Generalised Gauss–Newton products G v = Jᵀ (∂²L/∂z²) J v of an MLP under cross-entropy or MSE, written out layer by
/// layer without autograd (docs/operators.md, "Analytic GGN engine").
/// </summary>
/// <remarks>
/// J v is <see cref="MlpNetwork.RForward"/>; the loss Hessian in output space is <see cref="MlpOutputLoss.HessianTimes"/>;
/// Jᵀ u is a plain backward pass seeded with u instead of the loss gradient: ∂W = uᵀ a, ∂b = Σ u, u_in = u W through a
/// Linear step and u σ′ through an activation. It is the Hessian kernel's R-backward without the terms that carry the
/// loss gradient g (gᵀ R(a), g V, g σ″ R(z)) — exactly the residual H − G = Σ_k (∂L/∂z_k) ∇²z_k — so the forward state
/// needs neither g nor σ″, and a product costs 2 matrix products per Linear layer in each pass instead of the
/// Hessian's 3 on the way back.
/// </remarks>
internal sealed class MlpGgnKernel(MlpNetwork network) : IMlpKernel
{
    /// <summary>Steps of the network, for messages.</summary>
    public string Describe() => network.Describe();

    /// <summary>The forward quantities of one batch (layer inputs, σ′, softmax probabilities), in the caller's dispose scope.</summary>
    /// <exception cref="NotSupportedException">Inputs or targets have a shape the engine does not cover.</exception>
    public MlpBatchState Prepare(Tensor inputs, Tensor targets, double scale)
    {
        using var _ = no_grad();
        var (state, logits) = network.Forward(inputs, scale, secondDerivatives: false);
        MlpOutputLoss.PrepareHessian(network.LossKind, logits, targets, state);
        return state;
    }

    /// <summary>This batch's contribution to G v, flat in the parameter space's order.</summary>
    public Tensor Product(MlpBatchState state, Tensor vector)
    {
        using var _ = no_grad();
        var steps = network.Steps;
        var lowest = network.Lowest;
        var u = MlpOutputLoss.HessianTimes(network.LossKind, state, network.RForward(state, vector).Output);
        var parts = new Tensor[network.Space.Tensors.Count];
        for (var j = steps.Length - 1; j >= lowest; j--)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                if (s.WeightIndex >= 0)
                    parts[s.WeightIndex] = u.t().mm(state.Inputs[j]!);
                if (s.BiasIndex >= 0)
                    parts[s.BiasIndex] = u.sum(dim: 0);
                if (j > lowest)
                    u = u.mm(s.Weight!);
            }
            else if (j > lowest)
            {
                u = u * state.FirstDerivatives[j]!;
            }
        }
        return network.Space.Flatten(parts);
    }

    /// <summary>Adds G_B v_j to row j of <paramref name="sum"/> for the rows v_j of <paramref name="rows"/>, one dispose scope per row.</summary>
    public void AddProductRows(MlpBatchState state, Tensor rows, Tensor sum)
    {
        for (long j = 0; j < rows.shape[0]; j++)
        {
            using var scope = NewDisposeScope();
            sum[j].add_(Product(state, rows[j]));
        }
    }
}
