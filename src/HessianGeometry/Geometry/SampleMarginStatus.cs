namespace HessianGeometry.Geometry;

/// <summary>How the search for one input's nearest boundary point ended.</summary>
public enum SampleMarginStatus
{
    /// <summary>A point on the decision boundary was found; the distance is valid.</summary>
    OnBoundary,

    /// <summary>The predicted class did not change within <see cref="SampleMarginOptions.MaxIterations"/> DeepFool steps.</summary>
    NotCrossed,

    /// <summary>The iterate left the ball of radius <see cref="SampleMarginOptions.MaxDistance"/> before crossing.</summary>
    OutOfSpan,

    /// <summary>Every logit gap has a zero (or non-finite) input gradient: the linearisation gives no direction.</summary>
    ZeroGradient,

    /// <summary>The class changed, but the bisection did not bring the logit gap within tolerance in its step budget.</summary>
    ToleranceNotReached,
}
