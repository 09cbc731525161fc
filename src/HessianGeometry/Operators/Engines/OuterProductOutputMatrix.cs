using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// M_i = (w/k) Σ_s g_is g_isᵀ per sample, from output-space gradients g [b, k, C]: the empirical Fisher (k = 1, the true
/// label's gradient) and the Monte-Carlo Fisher (k sampled labels). Applied as two contractions, never formed.
/// </summary>
internal sealed class OuterProductOutputMatrix : IOutputSpaceMatrix
{
    private readonly Tensor gradients;
    private readonly double factor;

    /// <param name="gradients">g [b, k, C]: k output gradients per sample (C = output entries per sample).</param>
    /// <param name="scale">The batch weight 1/n.</param>
    public OuterProductOutputMatrix(Tensor gradients, double scale)
    {
        this.gradients = gradients;
        factor = scale / gradients.shape[1];
    }

    public Tensor Apply(Tensor u)
    {
        using var scope = NewDisposeScope();
        var flat = u.reshape(u.shape[0], -1);
        var coefficients = einsum("bkc,bc->bk", gradients, flat);
        return einsum("bk,bkc->bc", coefficients, gradients).Times(factor).reshape(u.shape).MoveToOuterDisposeScope();
    }

    public void Detach() => gradients.DetachFromDisposeScope();

    public void Dispose() => gradients.Dispose();
}
