using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// What the analytic MLP engine keeps of one batch between products: the inputs of the Linear layers, the activations'
/// derivatives, the output gradients the second-order terms need, and the softmax probabilities. Everything here is
/// independent of the vector, so a cached operator keeps it for the whole analysis and a block product shares it.
/// </summary>
internal sealed class MlpBatchState : IDisposable
{
    public MlpBatchState(int steps)
    {
        Inputs = new Tensor?[steps];
        FirstDerivatives = new Tensor?[steps];
        SecondDerivatives = new Tensor?[steps];
        OutputGradients = new Tensor?[steps];
    }

    /// <summary>The input of each Linear step at or above the lowest selected layer.</summary>
    public Tensor?[] Inputs { get; }

    /// <summary>σ′ of each activation step above the lowest selected layer.</summary>
    public Tensor?[] FirstDerivatives { get; }

    /// <summary>σ″ where it is not identically zero.</summary>
    public Tensor?[] SecondDerivatives { get; }

    /// <summary>∂L/∂(output of step j) where a second-order term uses it.</summary>
    public Tensor?[] OutputGradients { get; }

    /// <summary>Softmax probabilities (cross-entropy), shape [b, C].</summary>
    public Tensor? Probabilities { get; set; }

    /// <summary>The factor of this batch's loss in the mean loss, 1/n.</summary>
    public double Scale { get; init; }

    /// <summary>Rows in the batch.</summary>
    public long Rows { get; init; }

    /// <summary>Detaches every tensor from the current dispose scope, for a cache that outlives it.</summary>
    public MlpBatchState Detach()
    {
        foreach (var t in All())
            t.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var t in All())
            t.Dispose();
    }

    private IEnumerable<Tensor> All() =>
        Inputs.Concat(FirstDerivatives).Concat(SecondDerivatives).Concat(OutputGradients).Append(Probabilities)
            .Where(t => t is not null).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>();
}
