namespace HessianGeometry.Operators;

/// <summary>
/// Which curvature matrix of the mean loss L(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) an operator or an analysis uses
/// (docs/curvature.md has the formulas and conventions).
/// </summary>
public enum CurvatureKind
{
    /// <summary>The Hessian H = ∇²_θ L (indefinite in general).</summary>
    Hessian,

    /// <summary>The generalised Gauss–Newton matrix G = (1/n) Σ_i J_iᵀ ∇²_f ℓ_i J_i (positive semi-definite for cross-entropy and MSE).</summary>
    Ggn,

    /// <summary>
    /// The Monte-Carlo Fisher (1/n) Σ_i J_iᵀ [(1/k) Σ_s ∇_f ℓ(f_i, ŷ_s) ∇_f ℓ(f_i, ŷ_s)ᵀ] J_i with labels ŷ_s drawn from the
    /// model's predictive distribution: an unbiased, positive semi-definite estimate of <see cref="Ggn"/>.
    /// </summary>
    Fisher,

    /// <summary>The empirical Fisher (1/n) Σ_i ∇_θ ℓ_i ∇_θ ℓ_iᵀ with the true labels (positive semi-definite).</summary>
    EmpiricalFisher,
}
