using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// One batch's output-space matrix M_B in a Jacobian sandwich C_B = J_Bᵀ M_B J_B: the loss Hessian ∇²_f ℓ for the GGN,
/// a sum of outer products of output gradients for the Fisher variants. It is block diagonal over the samples and
/// already carries the batch's weight 1/n.
/// </summary>
internal interface IOutputSpaceMatrix : IDisposable
{
    /// <summary>M_B u for an output-space direction u shaped like the network outputs [b, …].</summary>
    Tensor Apply(Tensor u);

    /// <summary>Detaches the matrix's tensors from the current dispose scope (for a cached batch).</summary>
    void Detach();
}
