using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// The analysis stage behind <see cref="HessianAnalysisBuilder.WithSampleMargins"/>: per-sample margins, their rank
/// correlation with the alignment, the curvature at every boundary point (dense inputs) and at x_b, and for
/// piecewise-linear networks the linear pieces crossed instead.
/// </summary>
internal static class SampleMarginStage
{
    /// <summary>Boundary points are written to the report for inputs of at most this many dimensions (for plots).</summary>
    private const int PlottedDimension = 16;

    /// <summary>
    /// Runs the stage. The per-sample margins, the curvature at every boundary point and the linear pieces crossed come
    /// from <paramref name="geometry"/> (on a cluster: from the workers, each over its shard's inputs); the reductions
    /// over the inputs, the correlations with the alignment and the curvature at one point run here.
    /// </summary>
    public static MinimumReport Run(EmpiricalRisk risk, ISampleGeometry geometry, AlignmentResult? alignment, SampleMarginOptions options, MinimumReport report, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var margins = geometry.SampleMargins(options, ct);
        var n = margins.Distances.Length;
        var x = new InputRows(risk, geometry);
        var rowShape = x.RowShape;
        var d = margins.BoundaryPoints.Length > 0 ? margins.BoundaryPoints[0].Length : 0;
        var valid = Enumerable.Range(0, n).Where(i => margins.Status[i] == SampleMarginStatus.OnBoundary).ToArray();

        var perSample = PerSampleCurvature(geometry, margins, valid, d, options, ct);
        int?[]? pieces = null;
        string? pieceReason = null;
        if (perSample.AllLinear && valid.Length > 0)
        {
            var counts = geometry.PiecesCrossed(valid, margins, options.PieceSamples, out var reason);
            pieceReason = reason;
            if (counts is not null)
            {
                pieces = new int?[n];
                for (var j = 0; j < valid.Length; j++)
                    pieces[valid[j]] = counts[j];
            }
        }

        var failed = Enumerable.Range(0, n).Where(i => margins.Status[i] != SampleMarginStatus.OnBoundary).ToArray();
        var section = new SampleMarginSection
        {
            Distribution = margins.Summary,
            Failures = failed.Length,
            FailedInputs = failed,
            FailureReasons = failed.Select(i => margins.Status[i].ToString()).ToArray(),
            MaxLogitGap = valid.Select(i => margins.LogitGaps[i]).DefaultIfEmpty(0).Max(),
            MaxIterations = margins.Iterations.DefaultIfEmpty(0).Max(),
            MaxAbsAlignment = alignment is null ? [] : SampleMargins.MaxAbsAlignmentPerInput(alignment),
            CorrelationPerEigenvector = alignment is null ? [] : PerEigenvector(margins, alignment),
            BoundaryPoints = d <= PlottedDimension ? margins.BoundaryPoints : null,
            CurvatureMethod = perSample.Method,
            CurvatureNote = perSample.AllLinear && valid.Length > 0
                ? "piecewise linear: the input Hessian of the logit gap is exactly zero at every boundary point, so the curvature is zero almost everywhere; see piecesCrossed" +
                    (pieces is null && pieceReason is { Length: > 0 } ? $" (not counted: {pieceReason})" : "")
                : perSample.Note,
            MeanCurvatures = perSample.AllLinear ? null : perSample.Mean,
            MaxAbsCurvatures = perSample.AllLinear ? null : perSample.MaxAbs,
            MeanCurvatureDistribution = perSample.AllLinear || perSample.Mean is null ? null : DistributionSummary.Of(perSample.Mean.Select(v => v ?? double.NaN)),
            PiecesCrossed = pieces,
            PiecesDistribution = pieces is null ? null : DistributionSummary.Of(pieces.Select(v => v is { } p ? (double)p : double.NaN)),
            PieceSamples = options.PieceSamples,
        };
        return report with
        {
            SampleMargins = margins.Distances.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray(),
            SampleMarginClasses = margins.Classes,
            MarginAlignmentCorrelation = alignment is null ? null : margins.AlignmentCorrelation(alignment),
            SampleMarginDetails = section,
            BoundaryCurvature = AtOnePoint(risk, x, margins, valid, report.MarginDetails, rowShape, options, ct),
        };
    }

    private static double?[] PerEigenvector(SampleMargins margins, AlignmentResult alignment)
    {
        using var scope = NewDisposeScope();
        var absolute = alignment.Alignment.to(ScalarType.Float64).abs().cpu();
        return Enumerable.Range(0, alignment.EigenvectorCount)
            .Select(i => SpearmanCorrelation.Compute(margins.Distances, absolute.select(1, i).contiguous().data<double>().ToArray()))
            .ToArray();
    }

    private sealed record PerSampleResult(string Method, string? Note, double?[]? Mean, double?[]? MaxAbs, bool AllLinear);

    private static PerSampleResult PerSampleCurvature(ISampleGeometry geometry, SampleMargins margins, int[] valid, int d, SampleMarginOptions options, CancellationToken ct)
    {
        if (!options.CurvatureAtSamples)
            return new("none", "per-sample curvature not requested (SampleMarginOptions.CurvatureAtSamples = false)", null, null, false);
        if (d < 2)
            return new("none", "one-dimensional inputs: the boundary is a set of points, which has no curvature", null, null, false);
        if (d > options.DenseCurvatureMaxDimension)
            return new("none", $"inputs have {d} dimensions, above SampleMarginOptions.DenseCurvatureMaxDimension = {options.DenseCurvatureMaxDimension}: curvature only at one point (boundaryCurvature)", null, null, false);
        if (valid.Length == 0)
            return new("dense", "no input reached the boundary", null, null, false);
        var n = margins.Distances.Length;
        var mean = new double?[n];
        var maxAbs = new double?[n];
        var allLinear = true;
        var curvatures = geometry.CurvatureAtSamples(valid, margins, options, ct);
        for (var j = 0; j < valid.Length; j++)
        {
            var c = curvatures[j];
            allLinear &= c.HessianIsZero;
            mean[valid[j]] = double.IsFinite(c.Mean) ? c.Mean : null;
            maxAbs[valid[j]] = c.Principal.Length > 0 && c.Principal.All(double.IsFinite) ? c.Principal.Max(Math.Abs) : null;
        }
        return new("dense", null, mean, maxAbs, allLinear);
    }

    /// <summary>The curvature at x_b when the margin estimate reached the boundary, else at the nearest input's boundary point.</summary>
    private static BoundaryCurvatureSection? AtOnePoint(EmpiricalRisk risk, InputRows x, SampleMargins margins, int[] valid, MarginSection? margin, long[] rowShape, SampleMarginOptions options,
        CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        double[] point;
        double[] start;
        int[] classes;
        string at, segmentFrom;
        int? inputIndex = null;
        if (margin is { OnBoundary: true, BoundaryClasses.Length: 2 })
        {
            point = margin.BoundaryPoint;
            var toMax = SampleMarginEstimator.Distance(margin.NearestMaxPoint, point);
            var toMin = SampleMarginEstimator.Distance(margin.NearestMinPoint, point);
            start = toMax <= toMin ? margin.NearestMaxPoint : margin.NearestMinPoint;
            classes = margin.BoundaryClasses;
            at = "marginPoint";
            segmentFrom = "nearestExtremeInput";
        }
        else if (valid.Length > 0)
        {
            var i = valid.MinBy(j => margins.Distances[j]);
            point = margins.BoundaryPoints[i];
            start = SampleMarginEstimator.ToArray(x.Rows([i])[0]);
            classes = margins.Classes[i];
            at = "sampleBoundaryPoint";
            segmentFrom = "input";
            inputIndex = i;
        }
        else
        {
            return null;
        }
        var pointTensor = ToTensor(point, rowShape, x.Like);
        var curvature = BoundaryCurvatureEstimator.Compute(risk, pointTensor, [classes[0]], [classes[1]], options, ct)[0];
        int? pieces = null;
        string? reason = null;
        if (curvature.HessianIsZero)
            pieces = LinearPieces.Count(risk, ToTensor(start, rowShape, x.Like), pointTensor, options.PieceSamples, out reason)?[0];
        return BoundaryCurvatureSection.From(curvature, at, inputIndex, point, pieces, options.PieceSamples, segmentFrom, reason);
    }

    private static Tensor ToTensor(double[] flat, long[] rowShape, Tensor like) =>
        tensor(flat, dtype: ScalarType.Float64).to(like.dtype, like.device).reshape(rowShape.Prepend(1L).ToArray());

    /// <summary>
    /// The inputs behind the geometry, read only where needed: one row for their shape and dtype, and the input whose
    /// boundary point carries the one-point curvature (in one process a view; on a cluster a call to the worker holding it).
    /// </summary>
    private sealed class InputRows
    {
        private readonly EmpiricalRisk risk;
        private readonly ISampleGeometry geometry;

        public InputRows(EmpiricalRisk risk, ISampleGeometry geometry)
        {
            this.risk = risk;
            this.geometry = geometry;
            Like = geometry.InputCount > 0 ? Rows([0]) : empty(0, dtype: risk.DType, device: risk.Device);
            RowShape = Like.shape.Skip(1).ToArray();
        }

        /// <summary>The first input (its dtype and device are the prepared inputs').</summary>
        public Tensor Like { get; }

        public long[] RowShape { get; }

        public Tensor Rows(int[] rows) => risk.PrepareInputs(geometry.InputRows(rows.Select(i => (long)i).ToArray()));
    }
}
