using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;
using Step = HessianGeometry.Operators.Engines.MlpStep;

namespace HessianGeometry.Spectrum;

/// <summary>
/// The exact diagonal of the Hessian of an MLP's empirical risk by Hessian backpropagation (Dangel, Harmeling and
/// Hennig 2020, "Modular block-diagonal curvature approximations for feedforward architectures"; BackPACK's
/// <c>DiagHessian</c>), without a single Hessian-vector product.
/// </summary>
/// <remarks>
/// <para>
/// For a Linear step z = W a + b, ∂z/∂W[a,b] = a_b e_a and z is linear in W, so per sample
/// ∂²ℓ/∂W[a,b]² = a_b² (∂²ℓ/∂z²)[a,a] and ∂²ℓ/∂b[a]² = (∂²ℓ/∂z²)[a,a]: the diagonal needs only the per-sample
/// Hessians H_z of the loss with respect to each Linear output. These are propagated from the output, where
/// H_f = s(diag p − p pᵀ) for softmax cross-entropy and (2s/c) I for MSE (s = 1/n, the sample's weight in the mean):
/// through a Linear step H_in = Wᵀ H_z W, through an activation a = σ(z) H_z = diag(σ′) H_a diag(σ′) + diag(σ″ ⊙ ∂ℓ/∂a).
/// The second term is the residual (non-GGN) part; it vanishes for ReLU, whose σ″ autograd takes as 0.
/// </para>
/// <para>
/// Cost and memory: per sample O(Σ w_in w_out (w_in + w_out)) for the products W ᵀ H W over the layers from the lowest
/// selected one up, and a [rows, w, w] tensor per step. Samples are processed in chunks of at most
/// 2²² / w_max² rows (32 MiB per step tensor in float64), so memory does not grow with the batch size. Widths above
/// 1024 are refused (null with a reason): one sample would then cost over 2·10⁹ multiply-adds per layer, and a stochastic
/// diagonal estimate is the better tool.
/// </para>
/// </remarks>
public static class ExactHessianDiagonal
{
    /// <summary>Widest Linear output (from the lowest selected layer up) the exact diagonal accepts.</summary>
    internal const int MaxWidth = 1024;

    /// <summary>Elements of one [rows, w, w] step tensor per chunk of samples.</summary>
    internal const long ChunkElements = 1L << 22;

    /// <summary>
    /// diag(H) of the risk's Hessian with respect to its analysis parameters, flat [p] in the analysis dtype and device,
    /// or null with the reason when the model is not an MLP the analytic engine's reader covers (a <c>Sequential</c> of
    /// Linear layers and ReLU, Tanh, Sigmoid, SiLU or exact GELU, under cross-entropy or MSE), or a width is above 1024.
    /// </summary>
    /// <param name="risk">The empirical risk; its model is only read.</param>
    /// <param name="cancellationToken">Checked between chunks of samples.</param>
    /// <param name="reason">Why the diagonal was not computed; empty on success.</param>
    public static Tensor? TryCompute(EmpiricalRisk risk, CancellationToken cancellationToken, out string reason)
    {
        Guard.NotNull(risk, nameof(risk));
        using var scope = NewDisposeScope();
        var steps = ExactMlpReader.TryRead(risk, out reason);
        if (steps is null)
            return null;
        var lowest = Enumerable.Range(0, steps.Count).First(j => steps[j].WeightIndex >= 0 || steps[j].BiasIndex >= 0);
        var width = steps.Skip(lowest).Where(s => s.IsLinear).Max(s => s.Weight!.shape[0]);
        if (width > MaxWidth)
        {
            reason = $"a Linear layer has {width} outputs; the exact diagonal propagates a {width}×{width} Hessian per sample and is limited to widths up to {MaxWidth}. Use the stochastic diagonal estimate";
            return null;
        }

        var space = risk.AnalysisParameters;
        var parts = space.Tensors.Select(t => zeros_like(t, requires_grad: false)).ToArray();
        var rowsPerChunk = Math.Max(1, ChunkElements / (width * width));
        var kind = risk.LossFunction.Kind;
        try
        {
            risk.ForEachBatch(batch =>
            {
                for (long start = 0; start < batch.Inputs.shape[0]; start += rowsPerChunk)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var chunkScope = NewDisposeScope();
                    var rows = Math.Min(rowsPerChunk, batch.Inputs.shape[0] - start);
                    AddChunk(steps, lowest, kind, batch.Inputs.narrow(0, start, rows), batch.Targets.narrow(0, start, rows), batch.Scale, parts);
                }
            });
        }
        catch (NotSupportedException ex)
        {
            reason = ex.Message;
            return null;
        }
        reason = "";
        return space.Flatten(parts).MoveToOuterDisposeScope();
    }

    /// <summary>Adds the diagonal of one chunk's Hessian (Σ over its samples of s·∇²ℓ_i) to <paramref name="parts"/>.</summary>
    private static void AddChunk(IReadOnlyList<Step> steps, int lowest, Operators.LossKind kind, Tensor inputs, Tensor targets, double scale, Tensor[] parts)
    {
        using var _ = no_grad();
        var linearInputs = new Tensor?[steps.Count];
        var first = new Tensor?[steps.Count];
        var second = new Tensor?[steps.Count];
        var h = inputs;
        for (var j = 0; j < steps.Count; j++)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                linearInputs[j] = h;
                h = ExactMlpReader.Linear(s, h);
            }
            else
            {
                (h, first[j], second[j]) = s.Activation!.Evaluate(h);
            }
        }

        // g = ∂ℓ/∂h_j and H = ∂²ℓ/∂h_j² per sample, walked down from the output.
        var (g, hessian) = ExactMlpReader.OutputDerivatives(kind, h, targets, scale);
        for (var j = steps.Count - 1; j >= lowest; j--)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                var diagonal = hessian.diagonal(0, 1, 2);
                if (s.WeightIndex >= 0)
                    parts[s.WeightIndex].add_(diagonal.t().mm(linearInputs[j]!.square()));
                if (s.BiasIndex >= 0)
                    parts[s.BiasIndex].add_(diagonal.sum(dim: 0));
                if (j > lowest)
                {
                    hessian = s.Weight!.t().matmul(hessian).matmul(s.Weight!);
                    g = g.mm(s.Weight!);
                }
            }
            else
            {
                var d = first[j]!;
                hessian = d.unsqueeze(2) * hessian * d.unsqueeze(1);
                if (second[j] is { } curvature)
                    hessian.diagonal(0, 1, 2).add_(curvature * g);
                g = g * d;
            }
        }
    }
}
