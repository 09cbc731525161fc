namespace HessianGeometry.Geometry;

/// <summary>
/// The decision-boundary complexity of Sabanayagam et al. (2025), "Unveiling the Hessian's Connection to the Decision
/// Boundary": G = (1/p) · #{ i : m_i &gt; ε }, the fraction of Hessian eigenvectors that align with the inputs' reinforcing
/// gradients more than random directions do. Reported for the mean statistic m_i = (1/n) Σ_x |A_i(x)| (the paper's) and
/// for the max statistic max_x |A_i(x)|.
/// </summary>
/// <param name="EncodingCountMean">#{ i : m_i &gt; ε_mean } among the eigenvectors considered.</param>
/// <param name="EncodingCountMax">#{ i : max_x |A_i(x)| &gt; ε_max } among the eigenvectors considered.</param>
/// <param name="EigenvectorsConsidered">k, the number of eigenvectors examined (p for the exact Hessian).</param>
/// <param name="ParameterCount">p, the number of parameters.</param>
/// <param name="ComplexityMean">G for the mean statistic: EncodingCountMean / p.</param>
/// <param name="ComplexityMax">G for the max statistic: EncodingCountMax / p.</param>
/// <param name="IsLowerBound">
/// True when only k &lt; p eigenvectors were computed: the eigenvectors not computed might also encode, so the count,
/// and G, are lower bounds. False when all p eigenvectors of the exact Hessian were examined.
/// </param>
/// <param name="Epsilon">The thresholds used.</param>
/// <param name="EncodingIndicesMean">Indices (columns of the alignment) with m_i &gt; ε_mean, ascending.</param>
/// <param name="EncodingIndicesMax">Indices with max_x |A_i(x)| &gt; ε_max, ascending.</param>
public sealed record BoundaryComplexity(
    int EncodingCountMean,
    int EncodingCountMax,
    int EigenvectorsConsidered,
    long ParameterCount,
    double ComplexityMean,
    double ComplexityMax,
    bool IsLowerBound,
    EpsilonBaseline Epsilon,
    int[] EncodingIndicesMean,
    int[] EncodingIndicesMax);
