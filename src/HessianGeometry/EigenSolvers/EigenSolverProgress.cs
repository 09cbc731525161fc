namespace HessianGeometry.EigenSolvers;

/// <summary>A progress report from a running eigen-solver.</summary>
/// <param name="Solver">The solver's <see cref="IEigenSolver.Name"/>.</param>
/// <param name="Iteration">The solver's outer iteration (Lanczos: restart cycle; power: iteration; LOBPCG: block iteration).</param>
/// <param name="OperatorApplications">Operator applications (HVPs) spent so far.</param>
/// <param name="ConvergedCount">Wanted pairs whose relative residual is at most the tolerance.</param>
/// <param name="MaxRelativeResidual">The largest relative residual among the wanted pairs (Lanczos reports its Ritz estimate).</param>
public sealed record EigenSolverProgress(string Solver, int Iteration, long OperatorApplications, int ConvergedCount, double MaxRelativeResidual);
