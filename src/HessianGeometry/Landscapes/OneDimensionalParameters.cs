namespace HessianGeometry.Landscapes;

/// <summary>
/// What filter normalisation does with the 1-D parameters: biases and the weights and biases of BatchNorm / LayerNorm,
/// which have no filters to normalise.
/// </summary>
public enum OneDimensionalParameters
{
    /// <summary>
    /// The direction is zero on them (the default; Li et al.'s <c>--xignore biasbn</c>): the landscape moves only the
    /// filters, whose scale invariance the normalisation was made for.
    /// </summary>
    Zero,

    /// <summary>The direction equals the parameters' own values there (Li et al.'s code without <c>--xignore biasbn</c>).</summary>
    CopyWeights,
}
