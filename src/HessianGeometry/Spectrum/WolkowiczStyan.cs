using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Computes <see cref="WolkowiczStyanBounds"/> (Wolkowicz and Styan 1980; applied to cross-entropy Hessians in
/// arXiv 2604.10202). The bounds are attained: λ_max = m + s√(p−1) exactly when the other p − 1 eigenvalues are equal,
/// and for p = 2 every bound is an equality.
/// </summary>
public static class WolkowiczStyan
{
    /// <summary>
    /// Bounds from exact traces. s² = (tr(A²) − tr(A)·m)/p is a difference of two large numbers: when the eigenvalues are
    /// nearly equal (s ≪ |m|) its rounding error ε·tr(A²)/p becomes an error of about √(ε·tr(A²)/p) in s. Prefer
    /// <see cref="FromMatrix"/> when the matrix is at hand; it centres A before squaring.
    /// </summary>
    /// <param name="dimension">p ≥ 2.</param>
    /// <param name="trace">tr(A).</param>
    /// <param name="traceOfSquare">tr(A²) = ‖A‖_F² (at least tr(A)²/p by Cauchy–Schwarz).</param>
    public static WolkowiczStyanBounds FromTraces(long dimension, double trace, double traceOfSquare)
    {
        Guard.InRange(dimension, 2, long.MaxValue, nameof(dimension), "The bounds need p ≥ 2 (for p = 1 the eigenvalue is the trace).");
        Guard.Finite(trace, nameof(trace));
        Guard.Finite(traceOfSquare, nameof(traceOfSquare));
        var p = (double)dimension;
        var mean = trace / p;
        var variance = (traceOfSquare - trace * mean) / p;
        // Rounding can push an exact s² = 0 slightly negative; anything beyond rounding means the traces are inconsistent.
        var roundoff = 1e-12 * Math.Max(Math.Abs(traceOfSquare), trace * trace / p) / p;
        if (variance < -roundoff)
            throw new ArgumentException($"traceOfSquare = {traceOfSquare} is below trace²/p = {trace * mean}, which no symmetric matrix allows. Pass tr(A²) (the squared Frobenius norm), not tr(A)².", nameof(traceOfSquare));
        return Exact(dimension, mean, Math.Sqrt(Math.Max(variance, 0)));
    }

    /// <summary>
    /// Bounds from a dense symmetric matrix (e.g. an exact Hessian): m = tr(A)/p and s² = ‖A − mI‖_F²/p, the centred
    /// form, which has no cancellation when the eigenvalues are nearly equal.
    /// </summary>
    /// <param name="dense">A symmetric p×p matrix, p ≥ 2.</param>
    public static WolkowiczStyanBounds FromMatrix(Tensor dense)
    {
        Guard.SquareMatrix(dense, nameof(dense));
        Guard.InRange(dense.shape[0], 2, long.MaxValue, "dense.shape[0]", "The bounds need p ≥ 2 (for p = 1 the eigenvalue is the trace).");
        Guard.AllFinite(dense, "dense", "Remove NaN/Inf entries before bounding its eigenvalues.");
        using var scope = NewDisposeScope();
        var a = dense.to(ScalarType.Float64);
        var p = a.shape[0];
        var mean = a.diagonal().sum().item<double>() / p;
        var centred = a - mean * eye(p, dtype: ScalarType.Float64, device: a.device);
        var variance = (centred * centred.T).sum().item<double>() / p;
        return Exact(p, mean, Math.Sqrt(Math.Max(variance, 0)));
    }

    private static WolkowiczStyanBounds Exact(long dimension, double mean, double s)
    {
        var near = 1 / Math.Sqrt(dimension - 1.0);
        var far = Math.Sqrt(dimension - 1.0);
        return new WolkowiczStyanBounds(mean, s, mean + near * s, mean + far * s, mean - far * s, mean - near * s, false, dimension, 0);
    }

    /// <summary>
    /// Bounds from estimated traces, widened by interval arithmetic: with T ∈ [T̂ ± k·SE_T] and S ∈ [Ŝ ± k·SE_S],
    /// m lies in [m_lo, m_hi] = (T̂ ± k·SE_T)/p and s² in [S_lo/p − max m², S_hi/p − min m²] (clamped at 0); each bound
    /// m + c·s is then taken at the end of those intervals that moves it outward. Whenever both true traces lie inside
    /// their intervals the widened bounds hold; by the union bound that has probability at least 1 − 2·P(|Z| &gt; k)
    /// (≈ 91% for k = 2 with normal errors), whatever the correlation between the two estimates (e.g. from
    /// <see cref="Hutchinson.TraceAndTraceOfSquare"/>). Unlike first-order propagation through ∂s/∂T ∝ 1/s, this stays
    /// finite when s is near 0.
    /// </summary>
    /// <param name="dimension">p ≥ 2.</param>
    /// <param name="trace">Estimate of tr(A).</param>
    /// <param name="traceOfSquare">Estimate of tr(A²).</param>
    /// <param name="coverage">k, the number of standard errors (default 2; 0 gives the bounds at the central estimates).</param>
    public static WolkowiczStyanBounds FromEstimates(long dimension, TraceEstimate trace, TraceEstimate traceOfSquare, double coverage = 2.0)
    {
        Guard.InRange(dimension, 2, long.MaxValue, nameof(dimension), "The bounds need p ≥ 2 (for p = 1 the eigenvalue is the trace).");
        Guard.NotNull(trace, nameof(trace));
        Guard.NotNull(traceOfSquare, nameof(traceOfSquare));
        Guard.NonNegative(coverage, nameof(coverage));
        Guard.Finite(trace.Value, "trace.Value");
        Guard.Finite(traceOfSquare.Value, "traceOfSquare.Value");
        Guard.NonNegative(trace.StandardError, "trace.StandardError");
        Guard.NonNegative(traceOfSquare.StandardError, "traceOfSquare.StandardError");

        var p = (double)dimension;
        var mean = trace.Value / p;
        var secondMoment = traceOfSquare.Value / p;
        var s = Math.Sqrt(Math.Max(secondMoment - mean * mean, 0));

        var meanLow = (trace.Value - coverage * trace.StandardError) / p;
        var meanHigh = (trace.Value + coverage * trace.StandardError) / p;
        var secondLow = (traceOfSquare.Value - coverage * traceOfSquare.StandardError) / p;
        var secondHigh = (traceOfSquare.Value + coverage * traceOfSquare.StandardError) / p;
        var meanSquareMax = Math.Max(meanLow * meanLow, meanHigh * meanHigh);
        var meanSquareMin = meanLow <= 0 && meanHigh >= 0 ? 0 : Math.Min(meanLow * meanLow, meanHigh * meanHigh);
        var sLow = Math.Sqrt(Math.Max(secondLow - meanSquareMax, 0));
        var sHigh = Math.Sqrt(Math.Max(secondHigh - meanSquareMin, 0));

        var near = 1 / Math.Sqrt(p - 1);
        var far = Math.Sqrt(p - 1);
        return new WolkowiczStyanBounds(mean, s,
            LambdaMaxLower: meanLow + near * sLow,
            LambdaMaxUpper: meanHigh + far * sHigh,
            LambdaMinLower: meanLow - far * sHigh,
            LambdaMinUpper: meanHigh - near * sLow,
            FromEstimates: true, dimension, coverage);
    }
}
