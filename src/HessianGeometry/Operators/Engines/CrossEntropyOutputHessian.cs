using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// The Hessian of softmax cross-entropy in the logits, per sample Λ_i = diag(p_i) − p_i p_iᵀ with p_i = softmax(f_i),
/// times the batch weight. Applied without forming Λ: Λ u = p ⊙ u − p (pᵀu). The probabilities come from libtorch's
/// softmax (max-shifted), so large logits cannot overflow; Λ does not depend on the label.
/// </summary>
internal sealed class CrossEntropyOutputHessian : IOutputSpaceMatrix
{
    private readonly Tensor probabilities;
    private readonly double scale;

    /// <param name="logits">The detached outputs [b, C].</param>
    /// <param name="scale">The batch weight 1/n.</param>
    public CrossEntropyOutputHessian(Tensor logits, double scale)
    {
        probabilities = logits.softmax(1);
        this.scale = scale;
    }

    public Tensor Apply(Tensor u)
    {
        using var scope = NewDisposeScope();
        var pu = (probabilities * u).sum(dim: 1, keepdim: true);
        return (probabilities * (u - pu)).Times(scale).MoveToOuterDisposeScope();
    }

    public void Detach() => probabilities.DetachFromDisposeScope();

    public void Dispose() => probabilities.Dispose();
}
