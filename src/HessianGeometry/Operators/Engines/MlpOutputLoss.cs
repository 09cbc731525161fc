using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// The loss as a function of the logits z of one batch, as the analytic MLP engines use it: its gradient ∂L_B/∂z and its
/// Hessian ∂²L_B/∂z² applied to a tangent R(z), for softmax cross-entropy and MSE. L_B = scale · Σ_i ℓ_i.
/// </summary>
/// <remarks>
/// Cross-entropy: ∂ℓ/∂z = p − onehot(y), ∂²ℓ/∂z² = diag(p) − p pᵀ. MSE averaged over the C outputs:
/// ∂ℓ/∂z = 2 (z − t)/C, ∂²ℓ/∂z² = (2/C) I. Neither Hessian depends on the target.
/// </remarks>
internal static class MlpOutputLoss
{
    /// <summary>∂L_B/∂z; for cross-entropy also stores the softmax probabilities in <paramref name="state"/>.</summary>
    /// <exception cref="NotSupportedException">Logits or targets have a shape the analytic engines do not cover.</exception>
    public static Tensor Gradient(LossKind kind, Tensor logits, Tensor targets, MlpBatchState state, double scale)
    {
        var t = CheckedTarget(kind, logits, targets);
        if (kind == LossKind.CrossEntropy)
        {
            var p = logits.softmax(1);
            state.Probabilities = p;
            return (p - t).TimesInPlace(scale);
        }
        return (logits - t).TimesInPlace(2.0 * scale / logits.shape[1]);
    }

    /// <summary>
    /// Checks the shapes and stores what the Hessian product needs (the softmax probabilities for cross-entropy) without
    /// computing the gradient.
    /// </summary>
    /// <exception cref="NotSupportedException">Logits or targets have a shape the analytic engines do not cover.</exception>
    public static void PrepareHessian(LossKind kind, Tensor logits, Tensor targets, MlpBatchState state)
    {
        CheckedTarget(kind, logits, targets);
        if (kind == LossKind.CrossEntropy)
            state.Probabilities = logits.softmax(1);
    }

    /// <summary>(∂²L_B/∂z²) R(z): p ⊙ r − p (pᵀ r) for cross-entropy, 2 r / C for MSE, times the batch's scale.</summary>
    public static Tensor HessianTimes(LossKind kind, MlpBatchState state, Tensor tangent)
    {
        if (kind == LossKind.CrossEntropy)
        {
            var p = state.Probabilities!;
            var pr = p * tangent;
            return (pr - p * pr.sum(dim: 1, keepdim: true)).TimesInPlace(state.Scale);
        }
        return tangent.Times(2.0 * state.Scale / tangent.shape[1]);
    }

    /// <summary>The target as a [b, C] tensor (one-hot for class indices), after checking its shape.</summary>
    private static Tensor CheckedTarget(LossKind kind, Tensor logits, Tensor targets)
    {
        if (logits.dim() != 2)
            throw new NotSupportedException($"the analytic engine needs outputs of shape [batch, outputs], not {Guard.Shape(logits)}");
        if (kind == LossKind.CrossEntropy)
        {
            if (targets.dtype != ScalarType.Int64 || targets.dim() != 1)
                throw new NotSupportedException("the analytic engine needs class-index targets for cross-entropy");
            return nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype);
        }
        var t = targets.dtype == ScalarType.Int64 && targets.dim() == 1 ? nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype) : targets;
        if (!t.shape.SequenceEqual(logits.shape))
            throw new NotSupportedException($"the analytic engine needs MSE targets shaped like the outputs {Guard.Shape(logits)}, not {Guard.Shape(targets)}");
        return t;
    }
}
