namespace HessianGeometry.EigenSolvers;

/// <summary>The eigen-solvers the analysis API can choose by name (see <see cref="EigenSolverFactory"/>).</summary>
public enum EigenSolverKind
{
    /// <summary>Thick-restart Lanczos (<see cref="EigenSolvers.Lanczos"/>), the default.</summary>
    Lanczos,

    /// <summary>Locally optimal block preconditioned conjugate gradient (<see cref="EigenSolvers.Lobpcg"/>).</summary>
    Lobpcg,

    /// <summary>Power iteration with deflation (<see cref="PowerIteration"/>).</summary>
    Power,

    /// <summary>Dense decomposition of the materialised Hessian (<see cref="DenseEigenSolver"/>): every eigenpair, small models only.</summary>
    Exact,
}
