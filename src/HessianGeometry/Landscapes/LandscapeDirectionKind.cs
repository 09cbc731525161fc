namespace HessianGeometry.Landscapes;

/// <summary>How the directions of a loss landscape were chosen; it fixes what the coordinates mean.</summary>
public enum LandscapeDirectionKind
{
    /// <summary>Unit eigenvectors of the Hessian (or of another curvature matrix, e.g. the GGN); coordinates are distances ‖θ − θ*‖ along them.</summary>
    Eigenvector,

    /// <summary>Filter-normalised Gaussian directions (Li et al. 2018) rescaled to unit norm; coordinates are distances.</summary>
    FilterNormalizedRandom,

    /// <summary>The segment θ_A + t (θ_B − θ_A); the coordinate t is 0 at model A and 1 at model B.</summary>
    Interpolation,

    /// <summary>The plane through three models in an orthonormal basis with model A at the origin; coordinates are distances.</summary>
    Plane,

    /// <summary>Principal directions of a training trajectory around its final point (unit norm); coordinates are distances.</summary>
    TrajectoryPca,

    /// <summary>Directions supplied by the caller, rescaled to unit norm; coordinates are distances.</summary>
    Given,
}
