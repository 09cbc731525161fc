namespace HessianGeometry.Operators;

/// <summary>How the first-order graph is handled between Hessian-vector products.</summary>
public enum HessianGraphMode
{
    /// <summary>Cache when the data is a single batch, otherwise stream.</summary>
    Auto,

    /// <summary>
    /// Build ∇L with <c>create_graph</c> once over the whole data and keep it: each further HVP is one backward pass.
    /// Memory grows with the dataset (all activations are kept).
    /// </summary>
    Cached,

    /// <summary>Forward, gradient and double backward per mini-batch for every product; memory bounded by one batch.</summary>
    Streamed,
}
