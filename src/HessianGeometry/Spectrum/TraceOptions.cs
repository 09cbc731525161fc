using HessianGeometry.Internal;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Method, stopping rule and budget of a trace estimate (<see cref="Hutchinson"/> or <see cref="HutchPlusPlus"/>). Hutchinson stops as soon as its own standard error
/// SE = s/√n falls to <see cref="RelativeStandardError"/>·|estimate| (checked after every probe block once
/// <see cref="MinProbes"/> samples exist), or when <see cref="MaxProbes"/> probes are spent. It never stops because
/// the estimate "stopped changing": with negative curvature the running mean can stall near a wrong value (or near 0)
/// while the sample variance is still large.
/// </summary>
public sealed record TraceOptions
{
    /// <summary>
    /// The estimator the analysis API runs (default <see cref="TraceMethod.Hutchinson"/>). <see cref="TraceMethod.HutchPlusPlus"/>
    /// spends exactly <see cref="MaxProbes"/> products on tr(H) alone (no stopping rule, no tr(H²)).
    /// <see cref="TraceMethod.Exact"/> needs the exact eigen-solver, which makes every trace exact anyway.
    /// The estimator functions themselves ignore this property.
    /// </summary>
    public TraceMethod Method { get; init; } = TraceMethod.Hutchinson;

    /// <summary>
    /// When true (default), the analysis API replaces the estimator by the exact closed form of
    /// <see cref="OneHiddenLayerTraces"/> whenever it applies (one hidden layer, cross-entropy or MSE, the Hessian as the
    /// curvature): exact tr(H), tr(H²) and Wolkowicz–Styan bounds without Hessian-vector products. False keeps the
    /// estimator, e.g. to study it. Ignored with the exact eigen-solver, whose traces are exact anyway.
    /// </summary>
    public bool ClosedForm { get; init; } = true;

    /// <summary>Target SE/|estimate| (default 0.01). 0 disables the target: exactly <see cref="MaxProbes"/> probes are used.</summary>
    public double RelativeStandardError { get; init; } = 0.01;

    /// <summary>Probe budget (default 200); the estimate reports <c>ReachedTarget = false</c> when it runs out.</summary>
    public int MaxProbes { get; init; } = 200;

    /// <summary>Samples required before the target is checked (default 10, at least 2): a standard error from fewer samples is itself too noisy to stop on.</summary>
    public int MinProbes { get; init; } = 10;

    /// <summary>Probe vectors per <c>ApplyBlock</c> call (default 8): one batched product instead of eight separate ones.</summary>
    public int BlockSize { get; init; } = 8;

    /// <summary>Seed of the Rademacher probes; the same seed gives bitwise the same estimate.</summary>
    public long Seed { get; init; }

    internal void Validate()
    {
        Guard.Defined(Method, nameof(Method));
        Guard.NonNegative(RelativeStandardError, nameof(RelativeStandardError));
        Guard.InRange(MaxProbes, 2, int.MaxValue, nameof(MaxProbes), "A standard error needs at least 2 probes.");
        Guard.InRange(MinProbes, 2, MaxProbes, nameof(MinProbes), "Keep 2 ≤ MinProbes ≤ MaxProbes.");
        Guard.Positive(BlockSize, nameof(BlockSize));
    }
}
