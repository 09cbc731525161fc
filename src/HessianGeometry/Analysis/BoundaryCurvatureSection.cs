using HessianGeometry.Geometry;

namespace HessianGeometry.Analysis;

/// <summary>
/// The curvature of the decision boundary at one point: x_b of the margin estimate when it ran and reached the
/// boundary, otherwise the boundary point of the input with the smallest per-sample margin. Written as the report's
/// <c>boundaryCurvature</c>. For a network whose input Hessian of the logit gap is exactly zero there (piecewise linear,
/// e.g. ReLU) <see cref="Principal"/> and <see cref="Mean"/> are null and <see cref="Note"/> says why, with the number of
/// linear pieces crossed on the segment to the point instead.
/// </summary>
public sealed record BoundaryCurvatureSection
{
    /// <summary>"marginPoint" (x_b of the margin estimate) or "sampleBoundaryPoint" (the nearest input's boundary point).</summary>
    public string At { get; init; } = "";

    /// <summary>With "sampleBoundaryPoint": the input whose boundary point this is.</summary>
    public int? InputIndex { get; init; }

    /// <summary>The class pair (a, b) of the boundary; curvatures are positive when a's region is locally convex.</summary>
    public int[] Classes { get; init; } = [];

    /// <summary>The point, flattened.</summary>
    public double[] Point { get; init; } = [];

    /// <summary>Principal curvatures κ₁ ≥ κ₂ ≥ … in 1/input units (all d − 1 with "dense", the converged extremes with "lanczos"); null for piecewise-linear networks.</summary>
    public double[]? Principal { get; init; }

    /// <summary>Mean curvature (1/(d − 1)) Σ κ_i; null for piecewise-linear networks.</summary>
    public double? Mean { get; init; }

    /// <summary>‖∇(z_a − z_b)‖ at the point.</summary>
    public double GradientNorm { get; init; }

    /// <summary>"dense" or "lanczos".</summary>
    public string Method { get; init; } = "";

    /// <summary>True when the input Hessian of the logit gap is exactly zero at the point (the network is affine around it).</summary>
    public bool PiecewiseLinear { get; init; }

    /// <summary>Why there are no curvatures (piecewise-linear network), or null.</summary>
    public string? Note { get; init; }

    /// <summary>Linear pieces crossed on the segment to the point (piecewise-linear networks; null when not countable).</summary>
    public int? PiecesCrossed { get; init; }

    /// <summary>Sample intervals on the segment behind <see cref="PiecesCrossed"/> (its resolution).</summary>
    public int PieceSamples { get; init; }

    /// <summary>The start of the counted segment: "nearestExtremeInput" (x_t^max or x_t^min, whichever is nearer x_b) or "input".</summary>
    public string? SegmentFrom { get; init; }

    /// <summary>The note written for piecewise-linear networks.</summary>
    public const string PiecewiseLinearNote =
        "The input Hessian of the logit gap is exactly zero here: the network is piecewise linear (e.g. ReLU), so its decision boundary is a union of flat pieces " +
        "and its curvature is zero almost everywhere (concentrated on the kinks). Reported instead: the number of linear pieces crossed on the segment to the point.";

    /// <summary>The section for a curvature measured at <paramref name="point"/>.</summary>
    internal static BoundaryCurvatureSection From(BoundaryCurvature curvature, string at, int? inputIndex, double[] point, int? pieces, int pieceSamples, string? segmentFrom, string? pieceReason)
    {
        var linear = curvature.HessianIsZero;
        return new BoundaryCurvatureSection
        {
            At = at,
            InputIndex = inputIndex,
            Classes = curvature.Classes,
            Point = point,
            Principal = linear ? null : curvature.Principal,
            Mean = linear || !double.IsFinite(curvature.Mean) ? null : curvature.Mean,
            GradientNorm = curvature.GradientNorm,
            Method = curvature.Method,
            PiecewiseLinear = linear,
            Note = linear ? PiecewiseLinearNote + (pieces is null && pieceReason is { Length: > 0 } ? $" Pieces not counted: {pieceReason}." : "") : null,
            PiecesCrossed = linear ? pieces : null,
            PieceSamples = pieceSamples,
            SegmentFrom = linear ? segmentFrom : null,
        };
    }
}
