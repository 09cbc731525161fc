using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// The R-forward pass of one batch along a parameter direction v: the directions of each Linear step's selected weight
/// and bias (views of v), R(a_j) = J_{a_j} v for the input of every step (null for an exact zero below the lowest
/// selected layer), and R(z) = J v for the logits.
/// </summary>
internal sealed record MlpTangent(Tensor?[] WeightDirections, Tensor?[] BiasDirections, Tensor?[] InputTangents, Tensor Output);
