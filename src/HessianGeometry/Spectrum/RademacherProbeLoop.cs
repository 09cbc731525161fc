using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// The probe loop Hutchinson-type estimators share: seeded Rademacher blocks z, y = Az in float64, the samples zᵀy and
/// ‖y‖² per probe, and one stopping rule (blocks fill up to MinProbes exactly, then run in BlockSize steps until every
/// wanted sample meets the relative standard-error target or MaxProbes are spent). Sharing it keeps the whole-matrix
/// estimates of <see cref="Hutchinson"/> and <see cref="BlockHutchinson"/> bitwise identical for the same options.
/// </summary>
internal static class RademacherProbeLoop
{
    /// <summary>Runs the loop; <paramref name="onBlock"/> sees each block's z ⊙ Az [p, k] (float64) and the probes drawn before it.</summary>
    /// <param name="op">The operator A (validated by the caller).</param>
    /// <param name="options">Validated options.</param>
    /// <param name="wantTrace">Record zᵀAz and stop on its target.</param>
    /// <param name="wantSquare">Record ‖Az‖² and stop on its target.</param>
    /// <param name="onBlock">Called inside the block's dispose scope, or null.</param>
    /// <param name="cancellationToken">Checked before every probe block.</param>
    public static ProbeRun Run(Operators.ILinearOperator op, TraceOptions options, bool wantTrace, bool wantSquare, Action<Tensor, int>? onBlock,
        CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var p = op.Dimension;
        using var generator = Internal.RandomVectors.CreateGenerator(options.Seed);
        var traceSamples = new List<double>();
        var squareSamples = new List<double>();
        long applications = 0;
        var probes = 0;
        var reached = false;
        while (probes < options.MaxProbes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var limit = probes < options.MinProbes ? options.MinProbes : options.MaxProbes;
            var k = Math.Min(options.BlockSize, limit - probes);
            using (NewDisposeScope())
            {
                var z = Internal.RandomVectors.Rademacher(p, k, generator, op.DType, op.Device);
                var y = op.ApplyBlock(z).to(ScalarType.Float64);
                applications += k;
                if (wantTrace || onBlock is not null)
                {
                    var zy = z.to(ScalarType.Float64) * y;
                    if (wantTrace)
                        traceSamples.AddRange(ToArray(zy.sum(dim: 0)));
                    onBlock?.Invoke(zy, probes);
                }
                if (wantSquare)
                    squareSamples.AddRange(ToArray((y * y).sum(dim: 0)));
            }
            probes += k;
            if (probes < options.MinProbes)
                continue;
            var traceDone = !wantTrace || Reached(traceSamples, options.RelativeStandardError);
            var squareDone = !wantSquare || Reached(squareSamples, options.RelativeStandardError);
            if (traceDone && squareDone)
            {
                reached = true;
                break;
            }
        }
        return new ProbeRun(traceSamples, squareSamples, applications, probes, reached);
    }

    /// <summary>The entries of a float64 vector on the host.</summary>
    public static double[] ToArray(Tensor vector) => vector.cpu().data<double>().ToArray();

    private static bool Reached(List<double> samples, double relativeTarget)
    {
        var (mean, se) = TraceSamples.MeanAndStandardError(samples);
        return TraceSamples.Reached(mean, se, relativeTarget);
    }
}
