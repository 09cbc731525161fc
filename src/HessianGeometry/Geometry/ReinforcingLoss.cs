using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// The per-sample loss behind a reinforcing gradient, ℓ(θ; x, t) with t = ŷ = argmax f_θ(x) (or a given label), and
/// the checks that must pass before anything is differentiated.
/// </summary>
internal static class ReinforcingLoss
{
    /// <summary>
    /// ‖g(x)‖ at or below this counts as zero and the alignment is defined as 0: 1e-140 in float64, 1e-15 in float32.
    /// Below these the squares summed into ‖g‖² underflow (float64 below 1.5e-154 per component, float32 below 1.1e-19),
    /// so the norm, not the gradient, stops being accurate. Above them the gradient itself is accurate, because the
    /// cross-entropy is differentiated in the form of <see cref="StableCrossEntropy"/>.
    /// </summary>
    public static double ZeroGradientNorm(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-140 : 1e-15;

    public static void CheckRisk(EmpiricalRisk risk)
    {
        Guard.NotNull(risk, nameof(risk));
        if (!risk.LossFunction.HasPerSampleForm)
        {
            throw new ArgumentException(
                $"The loss '{risk.LossFunction.Name}' reduces over the batch ({risk.LossFunction.Reduction}), so per-sample reinforcing gradients do not exist. " +
                "Build the operator with a loss that returns one value per sample (LossReduction.None).", nameof(risk));
        }
    }

    /// <summary>Validates inputs [n, ...] (n ≥ 1, finite) and converts them to the analysis dtype and device.</summary>
    public static Tensor PrepareInputs(EmpiricalRisk risk, Tensor inputs, string name)
    {
        Guard.Valid(inputs, name);
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
            throw new ArgumentException($"{name} must have shape [n, ...] with n ≥ 1 but has shape {Guard.Shape(inputs)}. Pass the inputs rows first.", name);
        Guard.AllFinite(inputs, name, "Clean the inputs before the analysis.");
        return risk.PrepareInputs(inputs.detach());
    }

    /// <summary>Validates labels against n and the class count; returns them on the analysis device (null stays null).</summary>
    public static Tensor? PrepareLabels(EmpiricalRisk risk, Tensor? labels, long n, long classes, string name)
    {
        if (labels is null)
            return null;
        Guard.Valid(labels, name);
        if (labels.dim() == 0 || labels.shape[0] != n)
            throw new ArgumentException($"{name} has shape {Guard.Shape(labels)} but there are {n} inputs. Pass one label per input.", name);
        if (risk.LossFunction.UsesClassTargets || (labels.dtype == ScalarType.Int64 && labels.dim() == 1))
            ModelChecks.ClassIndices(labels, classes, name, risk.LossFunction.Name);
        return risk.PrepareTargets(labels.detach());
    }

    /// <summary>Runs one input row through the model without autograd to learn C, the number of classes.</summary>
    public static long ClassCount(EmpiricalRisk risk, Tensor preparedInputs)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var output = risk.Forward(preparedInputs.narrow(0, 0, 1));
        CheckOutput(output, 1);
        return output.shape[1];
    }

    /// <summary>The model output must be [b, C] logits with C ≥ 2 so that ŷ and the logit gap exist.</summary>
    public static void CheckOutput(Tensor output, long rows)
    {
        if (output.dim() != 2 || output.shape[0] != rows || output.shape[1] < 2)
        {
            throw new ArgumentException(
                $"The decision-boundary geometry needs a classifier with outputs of shape [b, C], C ≥ 2, but the model returned {Guard.Shape(output)} for {rows} inputs. " +
                "Flatten the output to [b, C]; for a single-logit binary model output the two logits [−z/2, z/2].");
        }
    }

    /// <summary>
    /// The targets t of the reinforcing loss for one batch: the given labels, or ŷ = argmax of the (detached) output.
    /// </summary>
    public static Tensor Targets(Tensor output, Tensor? labels) =>
        labels ?? output.detach().argmax(1);

    /// <summary>ℓ_j(θ; x_j, t_j), shape [b]. For MSE with class targets the target is one-hot(t).</summary>
    public static Tensor PerSample(EmpiricalRisk risk, Tensor output, Tensor targets)
    {
        var losses = risk.LossFunction.Kind == LossKind.CrossEntropy && output.dim() == 2 && targets.dim() == 1 && targets.dtype == ScalarType.Int64
            ? StableCrossEntropy(output, targets)
            : risk.LossFunction.PerSample(output, targets);
        if (losses.dim() != 1 || losses.shape[0] != output.shape[0])
            throw new InvalidOperationException($"The loss '{risk.LossFunction.Name}' returned shape {Guard.Shape(losses)} for a batch of {output.shape[0]}; per-sample geometry needs one loss value per sample, shape [b].");
        if (!losses.requires_grad)
            throw new InvalidOperationException("The loss does not depend on any selected parameter (it does not require grad). Check the parameter selection and that the model is not run under no_grad.");
        return losses;
    }

    /// <summary>
    /// Per-sample cross-entropy −log softmax(z)_t written as softplus(s) with s = logsumexp_{c≠t}(z_c − z_t): the same
    /// value as <c>F.cross_entropy</c>, but its derivative in z is p_c for c ≠ t and −σ(s) = −(1 − p_t) for t, neither
    /// formed as a difference from 1. <c>F.cross_entropy</c>'s backward forms p_t − 1, which keeps only
    /// 1.1e-16 / (1 − p_t) of its digits and is exactly 0 once the logit gap exceeds about 37 (float64) or 17 (float32):
    /// on a well-trained model the reinforcing gradient of a confident input then loses its t-component and its alignment
    /// is rounding noise.
    /// </summary>
    public static Tensor StableCrossEntropy(Tensor logits, Tensor targets)
    {
        var target = logits.gather(1, targets.unsqueeze(1));
        var isTarget = nn.functional.one_hot(targets, logits.shape[1]).to(ScalarType.Bool);
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        var s = (logits - target).masked_fill(isTarget, minusInfinity).logsumexp(1);
        // softplus(s) = log(e⁰ + eˢ), exact on both branches; its derivative exp(s − softplus(s)) = σ(s) never forms 1 − p.
        // (nn.functional.softplus would take its beta and threshold as Scalars that TorchSharp does not keep alive.)
        return logaddexp(zeros_like(s), s);
    }

    /// <summary>Top-1 class and top-1 minus top-2 output of each row.</summary>
    public static (Tensor Classes, Tensor Gaps) Predictions(Tensor output)
    {
        var (values, indices) = output.detach().topk(2, dim: 1);
        return (indices.select(1, 0), values.select(1, 0) - values.select(1, 1));
    }

    /// <summary>Gradients w.r.t. all analysis parameters, flattened; parameters the loss does not use contribute zeros.</summary>
    public static Tensor FlatGradient(EmpiricalRisk risk, Tensor scalar, bool createGraph)
    {
        var parameters = risk.AnalysisParameters.Tensors;
        var grads = torch.autograd.grad([scalar], parameters.ToList(), retain_graph: createGraph, create_graph: createGraph, allow_unused: true);
        var parts = new Tensor[grads.Count];
        for (var i = 0; i < grads.Count; i++)
            parts[i] = grads[i] is null || grads[i].IsInvalid ? zeros_like(parameters[i]) : grads[i];
        return risk.AnalysisParameters.Flatten(parts);
    }

    /// <summary>Directions [p, k] in any floating dtype, validated and converted to the analysis dtype and device.</summary>
    public static Tensor PrepareDirections(EmpiricalRisk risk, Tensor directions, string name)
    {
        Guard.Valid(directions, name);
        if (directions.dim() != 2 || directions.shape[0] != risk.Dimension || directions.shape[1] < 1)
            throw new ArgumentException($"{name} must have shape [{risk.Dimension}, k] (one column per direction, p = {risk.Dimension} parameters) but has shape {Guard.Shape(directions)}.", name);
        if (!directions.is_floating_point())
            throw new ArgumentException($"{name} has dtype {directions.dtype}; pass floating-point directions (eigenvectors come as Float64).", name);
        Guard.AllFinite(directions, name, "Pass finite directions.");
        var d = directions.detach();
        if (d.dtype != risk.DType)
            d = d.to(risk.DType);
        if (!Guard.SameDevice(d.device, risk.Device))
            d = d.to(risk.Device);
        return d.contiguous();
    }
}
