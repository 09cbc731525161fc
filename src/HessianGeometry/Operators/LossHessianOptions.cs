using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>Options of <see cref="LossHessianOperator"/>.</summary>
public sealed record LossHessianOptions
{
    /// <summary>Cache the first-order graph or stream mini-batches (default: cache for one batch).</summary>
    public HessianGraphMode GraphMode { get; init; } = HessianGraphMode.Auto;

    /// <summary>
    /// The dtype the Hessian is computed in. Null keeps the model's dtype; <see cref="ScalarType.Float64"/> analyses a
    /// float32 model in float64 through twin parameters, leaving the model itself untouched.
    /// </summary>
    public ScalarType? AnalysisDType { get; init; }

    /// <summary>
    /// Allow a model in training mode. By default a model whose dropout or batch-norm layers are in training mode is
    /// refused, because its Hessian would be random.
    /// </summary>
    public bool AllowTrainingMode { get; init; }

    /// <summary>
    /// Run <see cref="CurvatureOperator.CheckDeterministic"/> when the operator is created (default false): evaluate
    /// the data, loss, gradient and one Hessian-vector product twice and refuse a random Hessian. The analysis façade
    /// turns it on.
    /// </summary>
    public bool CheckDeterministic { get; init; }

    /// <summary>
    /// How products are computed (default <see cref="HvpEngine.Auto"/>: the analytic R-operator for a plain MLP, checked
    /// once against double backward, otherwise double backward).
    /// </summary>
    public HvpEngine Engine { get; init; } = HvpEngine.Auto;
}
