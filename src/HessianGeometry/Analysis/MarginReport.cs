namespace HessianGeometry.Analysis;

/// <summary>Diagnostics of the margin estimate.</summary>
/// <param name="NearestMaxIndex">Index of x_t^max (largest signed A_1).</param>
/// <param name="NearestMinIndex">Index of x_t^min (smallest signed A_1).</param>
/// <param name="NearestMaxPoint">x_t^max.</param>
/// <param name="NearestMinPoint">x_t^min.</param>
/// <param name="FinalAbsAlignment">|A(x_b)| after optimisation (1 = perfectly parallel).</param>
/// <param name="LogitGap">Top-1 minus top-2 logit at x_b (≈ 0 on the boundary).</param>
/// <param name="Steps">Optimisation steps taken.</param>
/// <param name="BisectionPoint">Where the predicted class changes on the segment x_t^max–x_t^min, if it does.</param>
/// <param name="DistanceToBisectionPoint">‖x_b − bisection point‖.</param>
public sealed record MarginReport(int NearestMaxIndex, int NearestMinIndex, double[] NearestMaxPoint, double[] NearestMinPoint,
    double FinalAbsAlignment, double LogitGap, int Steps, double[]? BisectionPoint, double? DistanceToBisectionPoint);
