using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The Hessian H = ∇²_θ L(θ) of a model's loss with respect to a flat parameter vector θ, as a symmetric operator.
/// Only implementations of this interface know about modules, losses and data.
/// </summary>
public interface IHessianOperator : ILinearOperator, IDisposable
{
    /// <summary>The parameters θ the Hessian is taken with respect to, in flat-vector order.</summary>
    ParameterSpace Parameters { get; }

    /// <summary>The mean loss L(θ) over the whole dataset.</summary>
    double Loss();

    /// <summary>The gradient ∇_θ L(θ) over the whole dataset as one flat vector of shape [p].</summary>
    Tensor Gradient();
}
