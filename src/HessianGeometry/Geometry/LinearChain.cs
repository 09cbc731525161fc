using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Geometry;

/// <summary>
/// The closed-form per-sample quantities of a plain <c>Sequential</c> chain of Linear layers and per-sample,
/// parameter-free modules (elementwise activations, eval-mode dropout, flatten, softmax over features).
/// </summary>
/// <remarks>
/// For a Linear layer z = W a + b the per-sample gradient of ℓ_j is ∂ℓ_j/∂W = δ_j a_jᵀ and ∂ℓ_j/∂b = δ_j, where a_j is
/// the layer input and δ_j = ∂(Σ_i ℓ_i)/∂z_j (rows do not mix, so row j of the batch gradient is sample j's own).
/// Hence ‖g_j‖² = Σ_layers ‖δ_j‖²(‖a_j‖² + 1) and ⟨g_j, v⟩ = Σ_layers (δ_jᵀ V_W a_j + δ_jᵀ v_b): one forward and one
/// backward per batch give all n norms and all n·k directional derivatives. The layer inputs and outputs are captured
/// with forward hooks while <see cref="EmpiricalRisk.Forward"/> runs, so a float64 analysis of a float32 model
/// sees the float64 twins.
/// </remarks>
internal sealed class LinearChain
{
    private readonly Slot[] slots;

    private LinearChain(Slot[] slots) => this.slots = slots;

    /// <summary>The chain of a model that qualifies, or null (then the caller falls back to per-sample autograd).</summary>
    public static LinearChain? TryCreate(EmpiricalRisk risk)
    {
        var layers = SequentialLayer.Read(risk.Model, risk.Parameters, out _);
        if (layers is null || !SequentialLayer.CoverSelection(layers, risk.Parameters))
            return null;
        var slots = new List<Slot>();
        foreach (var layer in layers)
        {
            if (layer.Linear is { } linear)
            {
                if (layer.HasSelectedParameters)
                {
                    slots.Add(new Slot(linear, linear.in_features, linear.out_features,
                        layer.WeightIndex >= 0 ? risk.Parameters.OffsetOf(layer.WeightIndex) : null,
                        layer.BiasIndex >= 0 ? risk.Parameters.OffsetOf(layer.BiasIndex) : null));
                }
            }
            else if (!IsPerSampleWithoutParameters(layer.Module))
            {
                return null;
            }
        }
        return slots.Count > 0 ? new LinearChain([.. slots]) : null;
    }

    /// <summary>
    /// One forward and one backward over a batch. Returns null when a runtime condition fails (a Linear layer that did
    /// not see a [b, in] input exactly once); the caller then falls back.
    /// </summary>
    /// <param name="risk">The operator.</param>
    /// <param name="inputs">The prepared batch [b, ...].</param>
    /// <param name="labels">Prepared labels for the batch, or null for ŷ.</param>
    /// <param name="wantNorms">Compute ‖g_j‖.</param>
    /// <param name="directions">Directions [p, k] in the analysis dtype, or null.</param>
    public BatchQuantities? Run(EmpiricalRisk risk, Tensor inputs, Tensor? labels, bool wantNorms, Tensor? directions)
    {
        var b = inputs.shape[0];
        if (Capture(risk, inputs, labels) is not { } pass)
            return null;
        var (layerInputs, deltas, classes, gaps) = pass;
        Tensor? squaredNorms = wantNorms ? zeros(b, dtype: risk.DType, device: risk.Device) : null;
        Tensor? products = directions is null ? null : zeros(b, directions.shape[1], dtype: risk.DType, device: risk.Device);
        for (var s = 0; s < slots.Length; s++)
        {
            if (deltas[s] is null || deltas[s].IsInvalid)
                continue;
            var slot = slots[s];
            var delta = deltas[s];
            var a = layerInputs[s];
            if (squaredNorms is not null)
            {
                var deltaSq = delta.square().sum(dim: 1);
                if (slot.WeightOffset is not null)
                    squaredNorms.add_(deltaSq * a.square().sum(dim: 1));
                if (slot.BiasOffset is not null)
                    squaredNorms.add_(deltaSq);
            }
            if (products is not null)
                products.add_(slot.Directional(delta, a, directions!));
        }
        return new BatchQuantities(squaredNorms?.sqrt(), products, classes, gaps);
    }

    /// <summary>
    /// The explicit per-sample reinforcing gradients of a batch, G[j] = g(x_j) in the flat parameter order, shape
    /// [b, p] in the analysis dtype: the weight block of each Linear layer is δ_j ⊗ a_j (row-major [out, in]), the bias
    /// block δ_j. One forward and one backward; null when a runtime condition fails (see <see cref="Run"/>).
    /// </summary>
    public (Tensor Gradients, Tensor Classes, Tensor Gaps)? Gradients(EmpiricalRisk risk, Tensor inputs, Tensor? labels)
    {
        var b = inputs.shape[0];
        if (Capture(risk, inputs, labels) is not { } pass)
            return null;
        var (layerInputs, deltas, classes, gaps) = pass;
        var gradients = zeros(b, risk.Dimension, dtype: risk.DType, device: risk.Device);
        for (var s = 0; s < slots.Length; s++)
        {
            if (deltas[s] is null || deltas[s].IsInvalid)
                continue;
            var slot = slots[s];
            var delta = deltas[s];
            if (slot.WeightOffset is { } w)
                gradients.narrow(1, w, slot.Out * slot.In).copy_((delta.unsqueeze(2) * layerInputs[s].unsqueeze(1)).reshape(b, slot.Out * slot.In));
            if (slot.BiasOffset is { } o)
                gradients.narrow(1, o, slot.Out).copy_(delta);
        }
        return (gradients, classes, gaps);
    }

    /// <summary>
    /// One forward pass with hooks on the selected Linear layers and one backward of Σ_j ℓ_j to their outputs: the
    /// layer inputs a (detached), the output gradients δ (null where a layer does not reach the loss), ŷ and the gaps.
    /// Null when a Linear layer did not see a [b, in] input exactly once.
    /// </summary>
    private (Tensor[] Inputs, IList<Tensor> Deltas, Tensor Classes, Tensor Gaps)? Capture(EmpiricalRisk risk, Tensor inputs, Tensor? labels)
    {
        var b = inputs.shape[0];
        var captured = new List<(Tensor Input, Tensor Output)>[slots.Length];
        var removers = new List<nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover>();
        Tensor output;
        try
        {
            for (var s = 0; s < slots.Length; s++)
            {
                var list = captured[s] = [];
                removers.Add(slots[s].Layer.register_forward_hook((_, input, z) =>
                {
                    // Sequential disposes intermediate outputs, so keep an alias of the input. The layer hands a clone of z
                    // downstream so that an in-place activation cannot overwrite the z we differentiate against.
                    list.Add((input.alias(), z));
                    return z.clone();
                }));
            }
            output = risk.Forward(inputs);
        }
        finally
        {
            foreach (var r in removers)
                r.remove();
        }
        ReinforcingLoss.CheckOutput(output, b);
        for (var s = 0; s < slots.Length; s++)
        {
            if (captured[s].Count != 1 || captured[s][0].Input.dim() != 2 || captured[s][0].Input.shape[0] != b)
                return null;
        }
        var (classes, gaps) = ReinforcingLoss.Predictions(output);
        var losses = ReinforcingLoss.PerSample(risk, output, ReinforcingLoss.Targets(output, labels));
        var outputs = captured.Select(c => c[0].Output).ToList();
        var deltas = torch.autograd.grad([losses.sum()], outputs, allow_unused: true);
        return (captured.Select(c => c[0].Input.detach()).ToArray(), deltas, classes, gaps);
    }

    /// <summary>Modules whose output row j depends only on input row j and that hold no parameters.</summary>
    private static bool IsPerSampleWithoutParameters(Module m)
    {
        if (m.parameters().Any())
            return false;
        return m switch
        {
            ReLU or ReLU6 or LeakyReLU or ELU or SELU or CELU or GELU or SiLU or Mish or Sigmoid or Tanh or Softplus or Softsign
                or Softshrink or Hardshrink or Tanhshrink or Hardtanh or Hardsigmoid or Hardswish or LogSigmoid or Threshold or Identity => true,
            // Dropout is the identity in eval mode; in training mode it is random and per-sample norms would not match the HVP model.
            Dropout or AlphaDropout or FeatureAlphaDropout => !m.training,
            TorchSharp.Modules.Flatten f => f.start_dim >= 1,
            Softmax s => s.dim >= 1 || s.dim == -1,
            LogSoftmax s => s.dim >= 1 || s.dim == -1,
            Softmin s => s.dim >= 1 || s.dim == -1,
            _ => false,
        };
    }

    /// <summary>A Linear layer with at least one selected parameter and where its parameters sit in the flat vector.</summary>
    private sealed record Slot(Linear Layer, long In, long Out, long? WeightOffset, long? BiasOffset)
    {
        /// <summary>δ_jᵀ V_W a_j + δ_jᵀ v_b for all rows j and all k directions: [b, k].</summary>
        public Tensor Directional(Tensor delta, Tensor a, Tensor directions)
        {
            var k = directions.shape[1];
            var b = delta.shape[0];
            var result = zeros(b, k, dtype: delta.dtype, device: delta.device);
            if (WeightOffset is { } w)
            {
                // V_W[o, i, :] for each direction; contract over the smaller of in/out first to keep [b, min(in,out)·k] small.
                var vw = directions.narrow(0, w, Out * In).view(Out, In, k);
                if (Out <= In)
                    result.add_(a.mm(vw.permute(1, 0, 2).reshape(In, Out * k)).view(b, Out, k).mul(delta.unsqueeze(2)).sum(dim: 1));
                else
                    result.add_(delta.mm(vw.reshape(Out, In * k)).view(b, In, k).mul(a.unsqueeze(2)).sum(dim: 1));
            }
            if (BiasOffset is { } o)
                result.add_(delta.mm(directions.narrow(0, o, Out)));
            return result;
        }
    }
}

/// <summary>Per-batch results: ‖g_j‖ [b] and ⟨g_j, v_i⟩ [b, k] when asked for, ŷ_j and the top-1 − top-2 gap.</summary>
internal sealed record BatchQuantities(Tensor? Norms, Tensor? Products, Tensor Classes, Tensor Gaps);
