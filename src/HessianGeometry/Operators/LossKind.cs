namespace HessianGeometry.Operators;

/// <summary>The loss families the library knows how to validate and differentiate.</summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy on logits with class-index targets: ℓ = −log softmax(f(x))_y.</summary>
    CrossEntropy,

    /// <summary>Negative log-likelihood on log-probabilities with class-index targets: ℓ = −f(x)_y.</summary>
    NegativeLogLikelihood,

    /// <summary>Mean squared error: ℓ = (1/C) Σ_c (f(x)_c − y_c)², with one-hot targets when labels are class indices.</summary>
    MeanSquaredError,

    /// <summary>A user-supplied function.</summary>
    Custom,
}
