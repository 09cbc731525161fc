using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>The per-sample quantities of a risk over inputs held in this process: the single-process geometry.</summary>
/// <param name="risk">The empirical risk (model, loss, parameter selection, analysis dtype).</param>
/// <param name="inputs">The inputs, [n, ...] (the analysis' data inputs).</param>
internal sealed class LocalSampleGeometry(EmpiricalRisk risk, Tensor inputs) : ISampleGeometry
{
    public long InputCount => inputs.shape[0];

    public AlignmentResult Alignment(Tensor directions, AlignmentOptions options, bool explicitGradients, CancellationToken cancellationToken) =>
        explicitGradients
            ? AlignmentMatrix.Compute(risk, inputs, directions, options, cancellationToken: cancellationToken)
            : AlignmentAnalyzer.Compute(risk, inputs, directions, options, cancellationToken);

    public double[] OutputGradientScale(AlignmentOptions options, CancellationToken cancellationToken) =>
        SaturatedInputs.OutputGradientScale(risk, inputs, options.UseTrueLabels ? risk.Data.Targets : null, options.BatchSize, cancellationToken);

    public Tensor InputRows(long[] indices)
    {
        using var scope = NewDisposeScope();
        using var rows = tensor(indices, dtype: ScalarType.Int64);
        var x = risk.PrepareInputs(inputs.detach());
        return x.index_select(0, rows.to(x.device)).MoveToOuterDisposeScope();
    }

    public SampleMargins SampleMargins(SampleMarginOptions options, CancellationToken cancellationToken) =>
        SampleMarginEstimator.Estimate(risk, inputs, options, cancellationToken);

    public BoundaryCurvature[] CurvatureAtSamples(int[] indices, SampleMargins margins, SampleMarginOptions options, CancellationToken cancellationToken) =>
        Curvatures(risk, inputs.shape.Skip(1).ToArray(), [.. indices.Select(i => margins.BoundaryPoints[i])], [.. indices.Select(i => margins.Classes[i][0])],
            [.. indices.Select(i => margins.Classes[i][1])], options, cancellationToken);

    public int[]? PiecesCrossed(int[] indices, SampleMargins margins, int samples, out string reason)
    {
        using var scope = NewDisposeScope();
        var starts = InputRows([.. indices.Select(i => (long)i)]);
        var ends = tensor(indices.SelectMany(i => margins.BoundaryPoints[i]).ToArray(), dtype: ScalarType.Float64).to(starts.dtype, starts.device).reshape(starts.shape);
        return LinearPieces.Count(risk, starts, ends, samples, out reason);
    }

    /// <summary>
    /// The boundary curvature at <paramref name="points"/> (flattened inputs of <paramref name="rowShape"/>), in batches
    /// of <see cref="SampleMarginOptions.BatchSize"/>: what the sample-margin stage computes per input, also on a worker.
    /// </summary>
    internal static BoundaryCurvature[] Curvatures(EmpiricalRisk risk, long[] rowShape, double[][] points, int[] classA, int[] classB, SampleMarginOptions options,
        CancellationToken cancellationToken)
    {
        var result = new BoundaryCurvature[points.Length];
        for (var first = 0; first < points.Length; first += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(options.BatchSize, points.Length - first);
            var batch = tensor(points.Skip(first).Take(count).SelectMany(p => p).ToArray(), dtype: ScalarType.Float64).reshape(rowShape.Prepend(count).ToArray());
            var curvatures = BoundaryCurvatureEstimator.Compute(risk, batch, classA[first..(first + count)], classB[first..(first + count)], options, cancellationToken);
            curvatures.CopyTo(result, first);
        }
        return result;
    }
}
