namespace HessianGeometry.Landscapes;

/// <summary>The grid of a landscape: how many points per axis and how far it reaches.</summary>
public sealed record LandscapeGridOptions
{
    /// <summary>
    /// Points per axis (odd, at least 3, so the centre is a grid point). For distance axes the points run from −span to
    /// +span; for an interpolation axis the segment's ends 0 and 1 are grid points.
    /// </summary>
    public int Steps { get; init; } = 25;

    /// <summary>
    /// Eigenvector, random, given and PCA directions: the largest distance ‖θ − θ*‖ along one axis (for PCA at least
    /// this, widened to cover the trajectory). Interpolation and plane: the margin beyond the models, as a fraction of the
    /// segment's length (interpolation) or of the models' extent along each axis (plane).
    /// </summary>
    public double Span { get; init; } = 1.0;

    /// <summary>The relative error of the quadratic model's rise at which it is said to depart from the landscape (default 10 %).</summary>
    public double QuadraticDepartureThreshold { get; init; } = 0.1;
}
