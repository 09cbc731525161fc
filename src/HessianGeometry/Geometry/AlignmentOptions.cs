namespace HessianGeometry.Geometry;

/// <summary>
/// Options of <see cref="AlignmentAnalyzer"/> and <see cref="ReinforcingGradients"/>: which target the reinforcing
/// gradient uses, how many inputs go through one batched pass, and whether the closed-form per-layer formulas for
/// Linear <c>Sequential</c> models may be used.
/// </summary>
public sealed record AlignmentOptions
{
    /// <summary>
    /// Take the gradient at the true label y instead of the model's own prediction ŷ = argmax f_θ(x). Default false:
    /// the reinforcing gradient of Sabanayagam et al. (2025), "Unveiling the Hessian's Connection to the Decision
    /// Boundary", uses ŷ. With true labels <see cref="AlignmentAnalyzer"/> reads the operator's in-memory targets, so
    /// the inputs must be the operator's own data inputs.
    /// </summary>
    public bool UseTrueLabels { get; init; }

    /// <summary>Inputs per batched pass (default 1024). Memory grows linearly with it.</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>
    /// For a plain <c>Sequential</c> of Linear layers and elementwise activations, compute the per-sample gradient
    /// norms in closed form, ‖∂ℓ_j/∂W‖² = ‖δ_j‖²‖a_j‖² and ‖∂ℓ_j/∂b‖² = ‖δ_j‖² (a_j the layer input, δ_j = ∂ℓ/∂z_j the
    /// gradient at the layer output), from one forward and one backward pass per batch. Default true. Other models,
    /// or false, use a loop of per-sample gradients.
    /// </summary>
    public bool UseFastPerSampleNorms { get; init; } = true;

    /// <summary>
    /// For the same Linear <c>Sequential</c> models, compute ⟨g(x_j), v⟩ = Σ_layers δ_jᵀ V_W a_j + δ_jᵀ v_b from the
    /// per-layer quantities of that same pass (no second backward). Default true. Other models, or false, use the
    /// batched double-vjp pass (one second backward per direction and batch).
    /// </summary>
    public bool UseFastDirectionalDerivatives { get; init; } = true;
}
