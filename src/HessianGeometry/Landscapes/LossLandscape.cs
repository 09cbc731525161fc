using System.Diagnostics;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// Evaluates a loss landscape L(θ₀ + c₁ d₁ + c₂ d₂) on a grid (Goodfellow et al. 2015; Li et al. 2018). Each point
/// writes θ₀ + c₁ d₁ + c₂ d₂ into the risk's parameters in place (no graph, no copy of the model, nothing rebuilt) and
/// runs one forward pass per batch without gradients, so a grid point costs one loss evaluation.
/// </summary>
/// <remarks>
/// The parameters written are the risk's analysis parameters: float64 twins for a float64 analysis of a float32 model
/// (the model itself is never written), the model's own parameters otherwise. They are restored bitwise afterwards, also
/// on cancellation and error, and the model's state (values, gradients, buffers, modes) is snapshotted and restored
/// around the whole evaluation. The point is formed in float64 and rounded once to the analysis dtype, so the centre of
/// the grid is θ* exactly and its loss equals <see cref="EmpiricalRisk.Loss"/>.
/// </remarks>
public static class LossLandscape
{
    /// <summary>Evaluates loss and accuracy on the grid of <paramref name="directions"/>, and at the models they name.</summary>
    /// <param name="risk">The empirical risk (model, loss, data, precision). Dispose a Hessian built on it before this call.</param>
    /// <param name="directions">Origin and directions, in the risk's parameter order.</param>
    /// <param name="options">Steps and span (defaults: 25 points, span 1).</param>
    /// <param name="progress">Receives the number of points done.</param>
    /// <param name="cancellationToken">Stops between points; the parameters are restored.</param>
    public static LandscapeResult Evaluate(EmpiricalRisk risk, LandscapeDirections directions, LandscapeGridOptions? options = null,
        IProgress<LandscapeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.NotNull(directions, nameof(directions));
        options ??= new LandscapeGridOptions();
        var axes = directions.Axes(options);
        var space = risk.AnalysisParameters;
        foreach (var (v, k) in directions.Vectors.Select((v, k) => (v, k)))
        {
            if (v.numel() != space.Dimension)
                throw new ArgumentException($"Direction '{directions.Names[k]}' has {v.numel()} entries but the risk has p = {space.Dimension} parameters; build the directions from this risk's parameters.", nameof(directions));
        }
        if (directions.Origin is { } o && o.numel() != space.Dimension)
            throw new ArgumentException($"The origin has {o.numel()} entries but the risk has p = {space.Dimension} parameters.", nameof(directions));

        var clock = Stopwatch.StartNew();
        var points = GridPoints(axes).ToList();
        var anchorsToEvaluate = directions.Kind is LandscapeDirectionKind.Interpolation or LandscapeDirectionKind.Plane ? directions.Anchors.Count : 0;
        var total = points.Count + anchorsToEvaluate;
        var loss = new double[points.Count];
        var accuracy = new double?[points.Count];
        var anchors = directions.Anchors.ToArray();
        var done = 0;

        using var scope = NewDisposeScope();
        using var snapshot = new ModelStateSnapshot(risk.Model);
        var saved = space.GetValues();
        var origin = (directions.Origin ?? saved).to(ScalarType.Float64).to(space.Device);
        var vectors = directions.Vectors.Select(v => v.to(ScalarType.Float64).to(space.Device)).ToArray();
        try
        {
            for (var i = 0; i < points.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                (loss[i], accuracy[i]) = EvaluateAt(risk, space, origin, vectors, points[i]);
                progress?.Report(new LandscapeProgress(++done, total));
            }
            for (var a = 0; a < anchorsToEvaluate; a++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (l, acc) = EvaluateAt(risk, space, origin, vectors, anchors[a].Coordinates);
                anchors[a] = anchors[a] with { Loss = l, Accuracy = acc };
                progress?.Report(new LandscapeProgress(++done, total));
            }
        }
        finally
        {
            space.SetValues(saved);
        }

        var centre = points.FindIndex(c => c.All(x => x == 0));
        var centreLoss = centre >= 0 ? loss[centre] : anchors.First(a => a.Coordinates.All(x => x == 0)).Loss!.Value;
        var centreAccuracy = centre >= 0 ? accuracy[centre] : anchors.First(a => a.Coordinates.All(x => x == 0)).Accuracy;
        var notes = directions.Notes.ToList();
        var nonFinite = loss.Count(v => !double.IsFinite(v));
        if (nonFinite > 0)
            notes.Add($"The loss is NaN or infinite at {nonFinite} of {loss.Length} grid points (written as null in JSON); reduce the span.");
        var classification = accuracy.All(a => a.HasValue);
        return new LandscapeResult(directions.Kind, directions.Names.ToArray(), axes, loss, classification ? accuracy.Select(a => a!.Value).ToArray() : null,
            centreLoss, centreAccuracy, directions.Eigenvalues,
            directions.Eigenvalues is null ? null : Compare(directions, axes, loss, centreLoss, options.QuadraticDepartureThreshold),
            anchors, directions.FilterNormalizedNorms, directions.ExplainedVariance, notes.ToArray(), risk.DType.ToString(),
            risk.Dimension, risk.SampleCount, directions.Seed, total, clock.Elapsed);
    }

    /// <summary>The coordinates of every grid point, row-major (the last axis fastest).</summary>
    private static IEnumerable<double[]> GridPoints(double[][] axes) => axes.Length == 1
        ? axes[0].Select(c => new[] { c })
        : axes[0].SelectMany(c0 => axes[1].Select(c1 => new[] { c0, c1 }));

    private static (double Loss, double? Accuracy) EvaluateAt(EmpiricalRisk risk, ParameterSpace space, Tensor origin, Tensor[] vectors, double[] coordinates)
    {
        using var scope = NewDisposeScope();
        var point = origin.clone();
        for (var k = 0; k < vectors.Length; k++)
        {
            if (coordinates[k] != 0)
                point.AddScaledInPlace(vectors[k], coordinates[k]);
        }
        space.SetValues(point.dtype == space.DType ? point : point.to(space.DType));
        // Far from the minimum a non-finite loss is a value of the landscape, not an error: the totals never throw.
        var totals = risk.LossTotals();
        return (totals.MeanLoss, totals.Accuracy);
    }

    private static QuadraticModelComparison[] Compare(LandscapeDirections directions, double[][] axes, double[] loss, double centreLoss, double threshold)
    {
        var eigenvalues = directions.Eigenvalues!;
        var result = new QuadraticModelComparison[axes.Length];
        for (var k = 0; k < axes.Length; k++)
        {
            // The slice through the centre along axis k: the whole curve in 1-D, the centre row or column in 2-D.
            double[] slice;
            if (axes.Length == 1)
                slice = loss;
            else if (k == 0)
                slice = Enumerable.Range(0, axes[0].Length).Select(i => loss[i * axes[1].Length + Array.IndexOf(axes[1], 0.0)]).ToArray();
            else
                slice = Enumerable.Range(0, axes[1].Length).Select(j => loss[Array.IndexOf(axes[0], 0.0) * axes[1].Length + j]).ToArray();
            result[k] = QuadraticModelComparison.Create(directions.Names[k], eigenvalues[k], axes[k], slice, centreLoss, threshold);
        }
        return result;
    }
}
