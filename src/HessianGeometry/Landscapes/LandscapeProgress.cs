namespace HessianGeometry.Landscapes;

/// <summary>Progress of a landscape evaluation: points evaluated so far (grid points and anchors) out of the total.</summary>
/// <param name="Completed">Points done.</param>
/// <param name="Total">Points to do.</param>
public readonly record struct LandscapeProgress(int Completed, int Total);
