namespace HessianGeometry.Geometry;

/// <summary>Where the optimisation of the boundary point x_b starts.</summary>
public enum MarginStart
{
    /// <summary>
    /// At the midpoint of x_t^max and x_t^min (the inputs most and least aligned with the eigenvector), which lie on
    /// opposite sides of the boundary; further restarts add seeded Gaussian noise to it.
    /// </summary>
    Midpoint,

    /// <summary>At a seeded draw x ~ N(0, I), as in the paper.</summary>
    StandardNormal,
}
