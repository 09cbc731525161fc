using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// One step of an MLP as the analytic engines see it: a Linear step (<see cref="Weight"/> set) or a pointwise activation
/// step (<see cref="Activation"/> set). Indices point into the parameter space, −1 when the tensor is not selected.
/// </summary>
internal sealed record MlpStep(PointwiseActivation? Activation, Tensor? Weight, Tensor? Bias, int WeightIndex, int BiasIndex)
{
    public bool IsLinear => Weight is not null;
}
