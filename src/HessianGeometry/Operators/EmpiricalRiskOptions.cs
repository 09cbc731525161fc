using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>Options of <see cref="EmpiricalRisk"/>: the precision it runs in and the training-mode policy.</summary>
public sealed record EmpiricalRiskOptions
{
    /// <summary>
    /// The dtype the risk and its derivatives are computed in. Null keeps the model's dtype; <see cref="ScalarType.Float64"/>
    /// analyses a float32 model in float64 through twin parameters, leaving the model itself untouched.
    /// </summary>
    public ScalarType? AnalysisDType { get; init; }

    /// <summary>
    /// Allow a model in training mode. By default a model whose dropout or batch-norm layers are in training mode is
    /// refused, because its risk would be random (and batch-norm would update its running statistics).
    /// </summary>
    public bool AllowTrainingMode { get; init; }

    /// <summary>
    /// Index of this risk's first sample in the whole data set when the risk covers only a part of it (a shard on a
    /// cluster worker); 0 otherwise. Per-sample random draws key on the global index, so a shard draws for its samples
    /// exactly what one process draws for them.
    /// </summary>
    internal long SampleOffset { get; init; }
}
