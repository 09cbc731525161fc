namespace HessianGeometry.Operators;

/// <summary>How <see cref="LossHessianOperator"/> computes a Hessian-vector product.</summary>
public enum HvpEngine
{
    /// <summary>
    /// <see cref="AnalyticMlp"/> when the model is a plain MLP it can read and a first product agrees with
    /// <see cref="DoubleBackward"/>; otherwise <see cref="DoubleBackward"/>. <see cref="CurvatureOperator.EngineNote"/>
    /// says which was chosen and why.
    /// </summary>
    Auto,

    /// <summary>Autograd's double backward, H v = ∇_θ ⟨∇_θ L, v⟩ (Pearlmutter 1994). Works for any differentiable model.</summary>
    DoubleBackward,

    /// <summary>
    /// Pearlmutter's R-operator written out for a <c>Sequential</c> of <c>Linear</c> layers and pointwise activations
    /// (ReLU, Tanh, Sigmoid, exact GELU, SiLU, Identity) under cross-entropy or MSE: a forward pass, an R-forward pass
    /// and one backward pass carrying first and second derivatives, without autograd. The same numbers as
    /// <see cref="DoubleBackward"/> with fewer matrix products and no graph bookkeeping (docs/benchmarks.md). Asking for
    /// it explicitly throws when the model is not such an MLP.
    /// </summary>
    AnalyticMlp,
}
