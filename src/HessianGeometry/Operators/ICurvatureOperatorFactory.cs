namespace HessianGeometry.Operators;

/// <summary>
/// Where an analysis gets its curvature operator from. The default is <see cref="CurvatureOperators.Create"/> over the
/// analysis' own risk; a distributed analysis (HessianGeometry.Distributed) returns an operator whose products are
/// summed over workers, so every solver, estimator and stage runs on it unchanged.
/// </summary>
public interface ICurvatureOperatorFactory
{
    /// <summary>The operator of <paramref name="kind"/> over <paramref name="risk"/>, built as <paramref name="options"/> say.</summary>
    /// <param name="risk">The analysis' empirical risk (the caller keeps and disposes it).</param>
    /// <param name="kind">The matrix.</param>
    /// <param name="options">Graph mode, engine, Fisher samples, seed and determinism check, exactly as the plan would pass them.</param>
    /// <param name="cancellationToken">The analysis' token: an operator whose products run elsewhere passes it on to them.</param>
    CurvatureOperator Create(EmpiricalRisk risk, CurvatureKind kind, CurvatureOptions options, CancellationToken cancellationToken);
}
