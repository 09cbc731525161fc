namespace HessianGeometry.Geometry;

/// <summary>
/// Options of <see cref="SampleMarginEstimator"/> (per-sample distances to the decision boundary by DeepFool followed
/// by bisection) and of <see cref="BoundaryCurvatureEstimator"/>.
/// </summary>
public sealed record SampleMarginOptions
{
    /// <summary>Most DeepFool steps per input before it counts as <see cref="SampleMarginStatus.NotCrossed"/> (default 50).</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>
    /// DeepFool's overshoot η: the accumulated step r is applied as (1 + η) r so that the iterate crosses the boundary
    /// (default 0.02, as in Moosavi-Dezfooli et al. 2016). The bisection afterwards removes the overshoot.
    /// </summary>
    public double Overshoot { get; init; } = 0.02;

    /// <summary>
    /// Largest distance ‖x − x₀‖ the search may go (input units); an input whose iterate leaves this ball before
    /// crossing is <see cref="SampleMarginStatus.OutOfSpan"/>. Null (default): no limit.
    /// </summary>
    public double? MaxDistance { get; init; }

    /// <summary>Most bisection / false-position steps on the segment x₀ → crossed point (default 200).</summary>
    public int BisectionSteps { get; init; } = 200;

    /// <summary>
    /// Relative logit tolerance: a point is on the boundary when |z_a − z_b| ≤ tolerance · (1 + max_c |z_c|). Null
    /// (default): 1e-12 in a float64 analysis, 1e-5 in float32.
    /// </summary>
    public double? GapTolerance { get; init; }

    /// <summary>Inputs per batched pass (default 256). Memory grows with BatchSize · C · input size.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// Input dimension d up to which the principal curvatures come from the dense d × d Hessian of the logit gap
    /// (d batched double-backward passes, all d − 1 curvatures). Above it, Lanczos on the projected operator gives the
    /// extremal ones (default 1024).
    /// </summary>
    public int DenseCurvatureMaxDimension { get; init; } = 1024;

    /// <summary>Lanczos steps for the curvature above <see cref="DenseCurvatureMaxDimension"/> (default 40).</summary>
    public int LanczosSteps { get; init; } = 40;

    /// <summary>
    /// Points sampled on each segment x₀ → boundary point to count the linear pieces of a piecewise-linear network
    /// (default 2048): pieces narrower than 1/2048 of the segment can be missed.
    /// </summary>
    public int PieceSamples { get; init; } = 2048;

    /// <summary>Also compute the curvature at every per-sample boundary point (dense path only; default true).</summary>
    public bool CurvatureAtSamples { get; init; } = true;

    /// <summary>Seed of the Lanczos start vector (the analysis sets it from its own seed).</summary>
    public long Seed { get; init; }
}
