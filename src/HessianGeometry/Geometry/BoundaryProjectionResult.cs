namespace HessianGeometry.Geometry;

/// <summary>What <see cref="BoundaryProjection.Project"/> found.</summary>
/// <param name="Point">The projected point, flattened (the start itself when the projection failed).</param>
/// <param name="OnBoundary">True when the logit gap of the two classes is zero to tolerance and they are still the top two.</param>
/// <param name="Distance">‖projected − start‖ (0 when the projection failed).</param>
/// <param name="LogitGap">z_a − z_b at the last point evaluated.</param>
/// <param name="Classes">The class pair (a &lt; b) the boundary separates.</param>
internal sealed record BoundaryProjectionResult(double[] Point, bool OnBoundary, double Distance, double LogitGap, int[] Classes);
