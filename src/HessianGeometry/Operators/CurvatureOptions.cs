namespace HessianGeometry.Operators;

/// <summary>How <see cref="CurvatureOperators.Create"/> builds a curvature operator over an existing risk.</summary>
public sealed record CurvatureOptions
{
    /// <summary>Cache per-batch quantities between products, or stream (Auto: cache for one batch).</summary>
    public HessianGraphMode GraphMode { get; init; } = HessianGraphMode.Auto;

    /// <summary>
    /// The product engine asked for. For the Hessian: see <see cref="HvpEngine"/>. For the GGN, Auto picks the analytic MLP GGN
    /// engine where it applies (else the generic autograd engine), DoubleBackward the generic engine, AnalyticMlp the analytic one or an error.
    /// </summary>
    public HvpEngine Engine { get; init; } = HvpEngine.Auto;

    /// <summary>k, the labels drawn per input for <see cref="CurvatureKind.Fisher"/> (default 1, as curvlinops' <c>mc_samples</c>).</summary>
    public int FisherSamples { get; init; } = 1;

    /// <summary>Seed of the Monte-Carlo Fisher's label draws (draw s of sample i is fixed by the seed, i and s, whatever the batching).</summary>
    public long Seed { get; init; }

    /// <summary>Check that the operator is a deterministic function of the parameters before it is used.</summary>
    public bool CheckDeterministic { get; init; }
}
