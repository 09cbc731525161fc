using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Block traces and the diagonal from the probes of Hutchinson's trace estimator, at no extra product. With Rademacher
/// probes z and y = Az, the whole-matrix sample zᵀy = Σ_l z_lᵀ y_l splits over any partition of the coordinates into
/// blocks l, and E[z_lᵀ(Az)_l] = E[z_lᵀ A_ll z_l] = tr(A_ll) because the off-diagonal blocks average out (E[z_l z_mᵀ] = 0
/// for l ≠ m); entrywise, E[z_i (Az)_i] = A_ii (Bekas, Kokiopoulou and Saad 2007, "An estimator for the diagonal of a
/// matrix"), with Var[z_i (Az)_i] = Σ_{j≠i} A_ij², so entries coupled weakly to the rest converge fastest. The probes,
/// their order, the stopping rule (on the whole trace and tr(A²)) and so the whole-matrix estimates are exactly those of
/// <see cref="Hutchinson.TraceAndTraceOfSquare"/> with the same options; block samples sum to the whole sample up to
/// rounding. Standard errors are s/√n from the sample standard deviations, per block and per entry (Welford's update,
/// float64).
/// </summary>
public static class BlockHutchinson
{
    /// <summary>Estimates tr(A), tr(A²), every tr(A_ll) and optionally diag(A) from one set of probes.</summary>
    /// <param name="op">The operator A.</param>
    /// <param name="blocks">Coordinate blocks (e.g. <see cref="ParameterGroups.ByModule"/>); may be empty.</param>
    /// <param name="diagonal">Also estimate diag(A) with per-entry standard errors.</param>
    /// <param name="options">Stopping rule, budget, block size and seed, as for <see cref="Hutchinson"/>.</param>
    /// <param name="cancellationToken">Checked before every probe block.</param>
    public static BlockHutchinsonResult Estimate(ILinearOperator op, IReadOnlyList<ParameterGroup> blocks, bool diagonal, TraceOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(op, nameof(op));
        Guard.NotNull(blocks, nameof(blocks));
        options ??= new TraceOptions();
        options.Validate();
        foreach (var block in blocks)
            CheckRanges(block, op.Dimension);
        var wantSquare = op.IsSymmetric;

        using var scope = NewDisposeScope();
        var p = op.Dimension;
        var blockSamples = blocks.Select(_ => new List<double>()).ToArray();
        var mean = diagonal ? zeros(p, dtype: ScalarType.Float64, device: op.Device) : null;
        var m2 = diagonal ? zeros(p, dtype: ScalarType.Float64, device: op.Device) : null;
        // The same draws, arithmetic and stopping rule as Hutchinson.TraceAndTraceOfSquare, so the whole-matrix samples agree bitwise.
        var run = RademacherProbeLoop.Run(op, options, wantTrace: true, wantSquare, (zy, before) =>
        {
            for (var b = 0; b < blocks.Count; b++)
                blockSamples[b].AddRange(RademacherProbeLoop.ToArray(BlockSum(zy, blocks[b])));
            if (diagonal)
            {
                for (var j = 0; j < zy.shape[1]; j++)
                    Welford(mean!, m2!, zy[.., j], before + j + 1);
            }
        }, cancellationToken);
        var probes = run.Probes;
        var applications = run.Applications;

        DiagonalEstimate? diagonalEstimate = null;
        if (diagonal)
        {
            // SE_i = √(M2_i / (n − 1) / n).
            var standardErrors = m2!.DividedBy((double)(probes - 1) * probes).sqrt_();
            diagonalEstimate = new DiagonalEstimate("hutchinson", mean!.MoveToOuterDisposeScope(), standardErrors.MoveToOuterDisposeScope(), probes, applications);
        }
        return new BlockHutchinsonResult(
            run.Estimate("Hutchinson", run.TraceSamples),
            wantSquare ? run.Estimate("Hutchinson tr(A²)", run.SquareSamples) : null,
            blockSamples.Select(s => run.Estimate("Hutchinson", s)).ToList(),
            diagonalEstimate);
    }

    private static void CheckRanges(ParameterGroup block, long dimension)
    {
        Guard.NotNull(block, "block");
        foreach (var (start, length) in block.Ranges)
        {
            if (start < 0 || length <= 0 || start + length > dimension)
                throw new ArgumentException($"Block '{block.Name}' has the coordinate range [{start}, {start + length}) outside [0, {dimension}). Build the blocks from this operator's parameter space (ParameterGroups.ByModule).", nameof(block));
        }
    }

    private static Tensor BlockSum(Tensor zy, ParameterGroup block)
    {
        Tensor? sum = null;
        foreach (var (start, length) in block.Ranges)
        {
            var part = zy.narrow(0, start, length).sum(dim: 0);
            sum = sum is null ? part : sum.add_(part);
        }
        return sum!;
    }

    private static void Welford(Tensor mean, Tensor m2, Tensor sample, int n)
    {
        using var scope = NewDisposeScope();
        var delta = sample - mean;
        mean.add_(delta.DividedBy(n));
        m2.add_(delta.mul_(sample - mean));
    }
}
