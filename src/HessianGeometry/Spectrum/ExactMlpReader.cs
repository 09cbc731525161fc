using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using TorchSharp;
using static TorchSharp.torch;
using Step = HessianGeometry.Operators.Engines.MlpStep;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Reads an empirical risk's model as an MLP for the exact structural formulas (<see cref="ExactHessianDiagonal"/>,
/// <see cref="OneHiddenLayerTraces"/>), with the analytic HVP engine's reader, so all three accept the same models.
/// </summary>
internal static class ExactMlpReader
{
    /// <summary>
    /// The steps (in the analysis dtype) and the loss kind, or null with the reason. Besides the reader's checks (layer
    /// types, forward hooks, the selection covering only Linear weights and biases), the formula's own forward pass must
    /// reproduce the model's outputs on the first batch (1e-10 relative in float64, 1e-4 in float32): a Linear subclass
    /// that computes something else, which the type-based reader cannot see, is refused instead of giving a wrong number.
    /// The analytic engine guards the same case with a first product against double backward; a forward pass is enough
    /// here and costs no Hessian-vector product.
    /// </summary>
    public static IReadOnlyList<Step>? TryRead(EmpiricalRisk risk, out string reason)
    {
        var network = MlpNetwork.TryCreate(risk.Model, risk.LossFunction, risk.Parameters, risk.AnalysisParameters, risk.AnalysisValueOf, out reason);
        if (network is null)
            return null;
        var steps = network.Steps;
        string? mismatch = null;
        risk.ForEachBatch(batch =>
        {
            using var _ = no_grad();
            if (batch.Inputs.dim() != 2 || !batch.Inputs.is_floating_point())
            {
                mismatch = $"the inputs have shape {Internal.Guard.Shape(batch.Inputs)} ({batch.Inputs.dtype}); the exact MLP formulas need floating-point inputs of shape [batch, features]";
                return false;
            }
            var ours = Forward(steps, batch.Inputs);
            var theirs = risk.Forward(batch.Inputs);
            if (!ours.shape.SequenceEqual(theirs.shape))
            {
                mismatch = $"the model's output has shape {Internal.Guard.Shape(theirs)}, not the [batch, outputs] of its Linear layers";
                return false;
            }
            var scale = theirs.abs().max().to(ScalarType.Float64).item<double>();
            var difference = (ours - theirs).abs().max().to(ScalarType.Float64).item<double>();
            var tolerance = risk.DType == ScalarType.Float64 ? 1e-10 : 1e-4;
            if (difference > tolerance * Math.Max(scale, 1e-300))
                mismatch = $"its outputs differ from the layers' formulas by {difference / Math.Max(scale, 1e-300):G2} relative, so a layer does not compute what its type says";
            return false;
        });
        if (mismatch is not null)
        {
            reason = mismatch;
            return null;
        }
        return steps;
    }

    /// <summary>The network's output for <paramref name="inputs"/> from the steps alone (no autograd).</summary>
    public static Tensor Forward(IReadOnlyList<Step> steps, Tensor inputs)
    {
        var h = inputs;
        foreach (var s in steps)
            h = s.IsLinear ? Linear(s, h) : s.Activation!.Evaluate(h).Value;
        return h;
    }

    /// <summary>h Wᵀ + b.</summary>
    public static Tensor Linear(Step s, Tensor h) => s.Bias is null ? h.mm(s.Weight!.t()) : addmm(s.Bias, h, s.Weight!.t(), 1, 1);

    /// <summary>
    /// ∂ℓ/∂f [b, c] and ∂²ℓ/∂f² [b, c, c] of each sample's loss, both times <paramref name="scale"/> (the 1/n of the
    /// mean): softmax cross-entropy s(p − y) and s(diag p − p pᵀ); MSE averaged over the c outputs (2s/c)(f − t) and
    /// (2s/c) I. Class indices are one-hot for MSE, as <see cref="LossFunction"/> does.
    /// </summary>
    /// <exception cref="NotSupportedException">MSE targets are not shaped like the outputs.</exception>
    public static (Tensor Gradient, Tensor Hessian) OutputDerivatives(LossKind kind, Tensor logits, Tensor targets, double scale)
    {
        var c = logits.shape[1];
        if (kind == LossKind.CrossEntropy)
        {
            var p = logits.softmax(1);
            var gradient = (p - nn.functional.one_hot(targets, c).to(p.dtype)).mul_(scale);
            var hessian = (diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)).mul_(scale);
            return (gradient, hessian);
        }
        var t = targets.dtype == ScalarType.Int64 && targets.dim() == 1 ? nn.functional.one_hot(targets, c).to(logits.dtype) : targets;
        if (!t.shape.SequenceEqual(logits.shape))
            throw new NotSupportedException($"the exact MLP formulas need MSE targets shaped like the outputs {Internal.Guard.Shape(logits)}, not {Internal.Guard.Shape(targets)}");
        var factor = 2.0 * scale / c;
        var identity = eye(c, dtype: logits.dtype, device: logits.device).mul_(factor);
        return ((logits - t).mul_(factor), identity.expand(logits.shape[0], c, c));
    }
}
