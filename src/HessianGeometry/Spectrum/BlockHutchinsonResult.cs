namespace HessianGeometry.Spectrum;

/// <summary>Everything one set of Hutchinson probes gave (see <see cref="BlockHutchinson"/>).</summary>
/// <param name="Trace">tr(A), bitwise what <see cref="Hutchinson.TraceAndTraceOfSquare"/> returns for the same options.</param>
/// <param name="TraceOfSquare">tr(A²), or null when A is not symmetric.</param>
/// <param name="BlockTraces">tr(A_ll) per coordinate block, in the order the blocks were given; they share the probes and products of <paramref name="Trace"/>.</param>
/// <param name="Diagonal">diag(A) with per-entry standard errors, or null when not asked for.</param>
public sealed record BlockHutchinsonResult(TraceEstimate Trace, TraceEstimate? TraceOfSquare, IReadOnlyList<TraceEstimate> BlockTraces, DiagonalEstimate? Diagonal) : IDisposable
{
    /// <summary>Frees the diagonal's tensors.</summary>
    public void Dispose() => Diagonal?.Dispose();
}
