namespace HessianGeometry.Analysis;

/// <summary>The cost of one stage of an analysis.</summary>
/// <param name="Stage">Stage name (loss, exact-hessian, eigenpairs, bottom-eigenpairs, trace, density, alignment, complexity, margin).</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="OperatorApplications">Hessian-vector products.</param>
public sealed record StageTiming(string Stage, double Seconds, long OperatorApplications);
