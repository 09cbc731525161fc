using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>
/// The margin estimate and its diagnostics. Written as the report's <c>marginDetails</c> object (its schema-1 fields
/// plus <see cref="Margin"/>, <see cref="BoundaryPoint"/> and <see cref="Objective"/>).
/// </summary>
public sealed record MarginSection
{
    /// <summary>min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖).</summary>
    public double Margin { get; init; }

    /// <summary>x_b: the input optimised for alignment, then projected onto the decision boundary.</summary>
    public double[] BoundaryPoint { get; init; } = [];

    /// <summary>Index of x_t^max (largest signed A_1).</summary>
    public int NearestMaxIndex { get; init; }

    /// <summary>Index of x_t^min (smallest signed A_1).</summary>
    public int NearestMinIndex { get; init; }

    /// <summary>x_t^max.</summary>
    public double[] NearestMaxPoint { get; init; } = [];

    /// <summary>x_t^min.</summary>
    public double[] NearestMinPoint { get; init; } = [];

    /// <summary>|A(x_b)| after optimisation (1 = perfectly parallel).</summary>
    public double FinalAbsAlignment { get; init; }

    /// <summary>Top-1 minus top-2 logit at x_b (≈ 0 on the boundary).</summary>
    public double LogitGap { get; init; }

    /// <summary>The optimisation objective at x_b.</summary>
    public double Objective { get; init; }

    /// <summary>Optimisation steps taken.</summary>
    public int Steps { get; init; }

    /// <summary>Where the predicted class changes on the segment x_t^max–x_t^min, if it does.</summary>
    public double[]? BisectionPoint { get; init; }

    /// <summary>‖x_b − bisection point‖.</summary>
    public double? DistanceToBisectionPoint { get; init; }

    /// <summary>
    /// True when x_b lies on the decision boundary (the logit gap of its top two classes is zero to tolerance after the
    /// projection). False when the projection failed: x_b is then where the optimisation stopped, off the boundary.
    /// </summary>
    public bool OnBoundary { get; init; }

    /// <summary>How far the projection moved the optimised point onto the boundary (null when it failed).</summary>
    public double? DistanceToBoundary { get; init; }

    /// <summary>The two classes whose boundary x_b lies on (ascending).</summary>
    public int[] BoundaryClasses { get; init; } = [];

    /// <summary>Where the alignment optimisation stopped, before the projection onto the boundary.</summary>
    public double[] OptimisedPoint { get; init; } = [];

    /// <summary>The section for a margin estimate.</summary>
    public static MarginSection From(MarginEstimate estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        return new MarginSection
        {
            Margin = estimate.Margin,
            BoundaryPoint = estimate.BoundaryPoint,
            NearestMaxIndex = estimate.MaxIndex,
            NearestMinIndex = estimate.MinIndex,
            NearestMaxPoint = estimate.NearestMaxPoint,
            NearestMinPoint = estimate.NearestMinPoint,
            FinalAbsAlignment = estimate.FinalAbsAlignment,
            LogitGap = estimate.LogitGap,
            Objective = estimate.Objective,
            Steps = estimate.Steps,
            BisectionPoint = estimate.BisectionPoint,
            DistanceToBisectionPoint = estimate.DistanceToBisectionPoint,
            OnBoundary = estimate.OnBoundary,
            DistanceToBoundary = estimate.DistanceToBoundary,
            BoundaryClasses = estimate.BoundaryClasses,
            OptimisedPoint = estimate.OptimisedPoint,
        };
    }
}
