namespace HessianGeometry.Operators;

/// <summary>How <see cref="ExactHessian"/> materialises a dense curvature matrix.</summary>
public enum ExactHessianBuild
{
    /// <summary>
    /// <see cref="Structural"/> when the operator is a Hessian or GGN <see cref="CurvatureOperator"/> over an MLP the
    /// structural build reads and its matrix reproduces a first product; otherwise <see cref="BlockProducts"/>.
    /// </summary>
    Auto,

    /// <summary>p products with unit vectors, 64 columns per block product: any operator.</summary>
    BlockProducts,

    /// <summary>Blockwise matrix products from the MLP's structure (<see cref="StructuralMlpHessian"/>); refused with the reason when not possible.</summary>
    Structural,
}
