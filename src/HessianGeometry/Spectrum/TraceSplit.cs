using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// tr H = tr G + tr R by Hutchinson's estimator with one set of Rademacher probes for all three: per probe z, Hz and Gz
/// give zᵀHz and zᵀGz, and the residual sample is their difference zᵀHz − zᵀGz = zᵀRz. So the three means add up to
/// round-off, R costs no products of its own, and tr R has its own (usually much smaller) standard error because the
/// probe noise of H and G is correlated.
/// </summary>
public static class TraceSplit
{
    /// <summary>Estimates tr H, tr G and tr R = tr H − tr G from <paramref name="probes"/> shared probes.</summary>
    /// <param name="hessian">H.</param>
    /// <param name="ggn">G (same dimension, dtype and device).</param>
    /// <param name="probes">Number of probes (at least 2); no stopping rule, so the split holds sample by sample.</param>
    /// <param name="seed">Seed of the probes.</param>
    /// <param name="blockSize">Probes per block product.</param>
    /// <param name="cancellationToken">Checked before every block.</param>
    public static TraceSplitResult Estimate(ILinearOperator hessian, ILinearOperator ggn, int probes, long seed, int blockSize = 8, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(hessian, nameof(hessian));
        Guard.NotNull(ggn, nameof(ggn));
        Guard.Positive(blockSize, nameof(blockSize));
        if (probes < 2)
            throw new ArgumentOutOfRangeException(nameof(probes), probes, "The trace split needs at least 2 probes for a standard error.");
        if (hessian.Dimension != ggn.Dimension || hessian.DType != ggn.DType)
            throw new ArgumentException($"H and G must have the same dimension and dtype but have {hessian.Dimension} ({hessian.DType}) and {ggn.Dimension} ({ggn.DType}).", nameof(ggn));
        using var scope = NewDisposeScope();
        using var generator = RandomVectors.CreateGenerator(seed);
        var h = new List<double>(probes);
        var g = new List<double>(probes);
        var r = new List<double>(probes);
        for (var done = 0; done < probes;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var k = Math.Min(blockSize, probes - done);
            using (NewDisposeScope())
            {
                var z = RandomVectors.Rademacher(hessian.Dimension, k, generator, hessian.DType, hessian.Device);
                var z64 = z.to(ScalarType.Float64);
                var hz = ToArray((z64 * hessian.ApplyBlock(z).to(ScalarType.Float64)).sum(dim: 0));
                var gz = ToArray((z64 * ggn.ApplyBlock(z).to(ScalarType.Float64)).sum(dim: 0));
                for (var j = 0; j < k; j++)
                {
                    h.Add(hz[j]);
                    g.Add(gz[j]);
                    r.Add(hz[j] - gz[j]);
                }
            }
            done += k;
        }
        return new TraceSplitResult(Of(h), Of(g), Of(r));
    }

    private static TraceEstimate Of(List<double> samples)
    {
        var (mean, se) = TraceSamples.MeanAndStandardError(samples);
        return new TraceEstimate("Hutchinson", mean, se, samples.Count, samples.Count, true);
    }

    private static double[] ToArray(Tensor vector) => vector.cpu().data<double>().ToArray();
}
