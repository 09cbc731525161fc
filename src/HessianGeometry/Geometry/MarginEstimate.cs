namespace HessianGeometry.Geometry;

/// <summary>
/// The margin estimate of Sabanayagam et al. (2025), "Unveiling the Hessian's Connection to the Decision Boundary":
/// margin = min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖), with x_b an input whose reinforcing gradient is parallel to the
/// eigenvector v (so it lies on the decision boundary) and x_t^max, x_t^min the training inputs with the largest and
/// smallest signed alignment A(x).
/// </summary>
/// <param name="Margin">min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖), in input units.</param>
/// <param name="BoundaryPoint">x_b, flattened: the optimised point projected onto the decision boundary.</param>
/// <param name="NearestMaxPoint">x_t^max (the input with the largest signed A), flattened.</param>
/// <param name="NearestMinPoint">x_t^min (the input with the smallest signed A), flattened.</param>
/// <param name="MaxIndex">Row of x_t^max among the inputs.</param>
/// <param name="MinIndex">Row of x_t^min among the inputs.</param>
/// <param name="FinalAbsAlignment">|A(x_b)| = |cos(g(x_b), v)|; 1 when the optimisation found an exactly parallel gradient.</param>
/// <param name="LogitGap">Top-1 minus top-2 output at x_b; ≈ 0 when x_b is on the decision boundary.</param>
/// <param name="Objective">The paper's objective (c² − 1)² at x_b.</param>
/// <param name="Steps">Optimisation steps taken by the winning restart.</param>
/// <param name="BisectionPoint">
/// A check beyond the paper: the point where the predicted class changes on the segment from x_t^max to x_t^min, found
/// by bisection; null when both ends have the same predicted class.
/// </param>
/// <param name="DistanceToBisectionPoint">‖x_b − bisection point‖, or null.</param>
/// <param name="OptimisedPoint">Where the alignment optimisation stopped, flattened; x_b is its projection onto the boundary.</param>
/// <param name="OnBoundary">
/// True when x_b lies on the decision boundary: Newton steps on the logit gap of the top two classes brought it to zero
/// (<see cref="LogitGap"/> ≈ 0). False when the projection failed; x_b is then the optimised point, off the boundary by
/// <see cref="LogitGap"/> in logit units, and the margin is measured to it.
/// </param>
/// <param name="DistanceToBoundary">‖optimised point − x_b‖, how far the projection moved it; null when it failed.</param>
/// <param name="BoundaryClasses">The two classes whose boundary x_b lies on (ascending).</param>
public sealed record MarginEstimate(
    double Margin,
    double[] BoundaryPoint,
    double[] NearestMaxPoint,
    double[] NearestMinPoint,
    int MaxIndex,
    int MinIndex,
    double FinalAbsAlignment,
    double LogitGap,
    double Objective,
    int Steps,
    double[]? BisectionPoint,
    double? DistanceToBisectionPoint,
    double[] OptimisedPoint,
    bool OnBoundary,
    double? DistanceToBoundary,
    int[] BoundaryClasses);
