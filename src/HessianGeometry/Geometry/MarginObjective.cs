namespace HessianGeometry.Geometry;

/// <summary>
/// The function of c²(x) = ⟨g(x), v⟩² / (‖g(x)‖² ‖v‖²) that the boundary-point search descends. Both are minimised exactly
/// where g(x) is parallel to v (c² = 1); the reported objective is always the paper's (c² − 1)².
/// </summary>
public enum MarginObjective
{
    /// <summary>(c² − 1)², the paper's objective (an MSE between c² and 1). Quartic in the distance to the optimum, so its gradient vanishes fast there.</summary>
    Paper,

    /// <summary>1 − c² (sin² of the angle between g(x) and v): the same minimisers, quadratic near the optimum, so first-order steps converge faster.</summary>
    SineSquared,
}
