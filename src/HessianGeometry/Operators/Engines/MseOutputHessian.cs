using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// The Hessian of the library's MSE in the outputs: ℓ_i = (1/C) Σ_c (f_ic − y_ic)² (C = output entries per sample, as
/// PyTorch's <c>mse_loss</c> with reduction "mean" divided by n) has ∇²_f ℓ_i = (2/C) I, times the batch weight.
/// </summary>
internal sealed class MseOutputHessian(long outputsPerSample, double scale) : IOutputSpaceMatrix
{
    private readonly double factor = 2.0 / outputsPerSample * scale;

    public Tensor Apply(Tensor u) => u.Times(factor);

    public void Detach()
    {
    }

    public void Dispose()
    {
    }
}
