namespace HessianGeometry.Geometry;

/// <summary>
/// The principal curvatures of the decision boundary {x : z_a(x) = z_b(x)} at one of its points (see
/// <see cref="BoundaryCurvatureEstimator"/> for the formula and the sign convention: positive = class a's region is
/// locally convex there, bending like a sphere around it).
/// </summary>
/// <param name="Principal">The principal curvatures κ₁ ≥ κ₂ ≥ …, in 1/input units: all d − 1 with the dense method, the converged extremal Ritz values with Lanczos.</param>
/// <param name="Mean">Mean curvature (1/(d − 1)) Σ κ_i = tr(P H P) / ((d − 1) ‖∇s‖), exact with either method; NaN when d = 1.</param>
/// <param name="GradientNorm">‖∇(z_a − z_b)‖ at the point; the curvature is undefined (NaN) when it is 0.</param>
/// <param name="Classes">The pair (a, b): the curvature is signed towards a's side.</param>
/// <param name="Method">"dense" (the full d × d input Hessian) or "lanczos" (extremal curvatures from the projected operator).</param>
/// <param name="HessianIsZero">
/// True when the input Hessian of the logit gap is exactly zero at the point: the network is affine there (a
/// piecewise-linear network such as a ReLU MLP, whose boundary curvature is zero almost everywhere).
/// </param>
public sealed record BoundaryCurvature(double[] Principal, double Mean, double GradientNorm, int[] Classes, string Method, bool HessianIsZero);
