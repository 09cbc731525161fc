namespace HessianGeometry.Analysis;

/// <summary>Counts behind the boundary-complexity measure G = #{i : m_i &gt; ε} / p.</summary>
/// <param name="EncodingCountMean">Eigenvectors with mean |A_i| &gt; ε.</param>
/// <param name="EncodingCountMax">Eigenvectors with max |A_i| &gt; ε.</param>
/// <param name="EigenvectorsConsidered">k, the eigenvectors the count ran over.</param>
/// <param name="IsLowerBound">True when k &lt; p, so G counts only among the computed eigenvectors.</param>
public sealed record ComplexityReport(int EncodingCountMean, int EncodingCountMax, int EigenvectorsConsidered, bool IsLowerBound);
