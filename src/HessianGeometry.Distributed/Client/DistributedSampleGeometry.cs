using System.Text.Json;
using HessianGeometry.Distributed.Grains;
using HessianGeometry.Distributed.Worker;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Client;

/// <summary>
/// The per-sample quantities of the geometry stages, computed by the workers over their shards: directions are
/// broadcast as raw float64 rows (chunked like product vectors), each worker runs the single-process code
/// (<see cref="LocalSampleGeometry"/>) on its rows with the analysis' risk configuration, and the client concatenates
/// the shards' rows in sample order. Every reduction over the inputs (mean and max of |A|, counts, quantiles,
/// correlations) then runs on the client over all n rows, so it is exactly the single-process reduction.
/// </summary>
internal sealed class DistributedSampleGeometry(HessianCluster cluster, OperatorConfig config, EmpiricalRisk risk) : ISampleGeometry
{
    public long InputCount => cluster.TotalSamples;

    public AlignmentResult Alignment(Tensor directions, AlignmentOptions options, bool explicitGradients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directions);
        // Bad options and directions fail here, as in one process, before any worker is called.
        options = ReinforcingGradients.CheckOptions(options);
        if (directions.dim() != 2 || directions.shape[0] != risk.Dimension || directions.shape[1] < 1)
            throw new ArgumentException($"directions must have shape [{risk.Dimension}, k] (one column per eigenvector, p = {risk.Dimension} parameters) but has shape [{string.Join(", ", directions.shape)}].", nameof(directions));
        if (!directions.is_floating_point())
            throw new ArgumentException($"directions has dtype {directions.dtype}; pass floating-point eigenvectors (the solvers return Float64).", nameof(directions));
        using var scope = NewDisposeScope();
        var v = directions.detach().to(ScalarType.Float64).cpu();
        var columnNorms = v.to(risk.DType).to(ScalarType.Float64).norm(0, keepdim: false);
        if (!double.IsFinite(columnNorms.sum().item<double>()))
            throw new ArithmeticException("eigenvectors contains NaN or Inf. Pass finite directions.");
        if (!(columnNorms.min().item<double>() > 0))
            throw new ArgumentException("An eigenvector column is zero, so its alignment (a cosine) is undefined. Pass non-zero eigenvectors.", nameof(directions));
        var k = (int)v.shape[1];
        var json = JsonSerializer.Serialize(options);
        var kind = explicitGradients ? GeometryKind.AlignmentExplicit : GeometryKind.Alignment;
        var rowsOfV = Payload.ToBytes(v.T.contiguous());
        var parts = Wait(cluster.GeometryAsync(config, _ => (new GeometryRequest { Kind = kind, Columns = k, OptionsJson = json }, rowsOfV), cancellationToken));
        var rows = Rows(parts, k + 3);
        var alignment = rows.narrow(1, 0, k).contiguous();
        var absolute = alignment.abs();
        return new AlignmentResult(
            alignment.MoveToOuterDisposeScope(),
            absolute.mean([0L]).data<double>().ToArray(),
            absolute.amax([0L]).data<double>().ToArray(),
            rows.select(1, k).contiguous().data<double>().ToArray(),
            rows.select(1, k + 1).to(ScalarType.Int64).contiguous().data<long>().ToArray(),
            rows.select(1, k + 2).contiguous().data<double>().ToArray());
    }

    public double[] OutputGradientScale(AlignmentOptions options, CancellationToken cancellationToken)
    {
        options = ReinforcingGradients.CheckOptions(options);
        using var scope = NewDisposeScope();
        var json = JsonSerializer.Serialize(options);
        var parts = Wait(cluster.GeometryAsync(config, _ => (new GeometryRequest { Kind = GeometryKind.OutputGradientScale, OptionsJson = json }, []), cancellationToken));
        var scale = cat(parts.Select(p => p!.ToTensor()).ToList(), 0);
        CheckCount(scale.shape[0]);
        return scale.data<double>().ToArray();
    }

    public Tensor InputRows(long[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var scope = NewDisposeScope();
        // Which shard holds each requested row; each shard returns its rows in the order asked, the client restores the overall order.
        var positions = PositionsPerShard(indices);
        var parts = Wait(cluster.GeometryAsync(config, s =>
        {
            var mine = positions[IndexOf(s)];
            return mine.Length == 0 ? null : (new GeometryRequest { Kind = GeometryKind.InputRows, Indices = mine.Select(j => indices[j] - s.Start).ToArray() }, []);
        }, CancellationToken.None));
        var answered = parts.Where(p => p is not null).Select(p => p!.ToTensor()).ToList();
        if (answered.Count == 0)
            return empty(0, dtype: risk.DType).MoveToOuterDisposeScope();
        var stacked = cat(answered, 0);
        var order = positions.SelectMany(p => p).ToArray();
        var inverse = new long[order.Length];
        for (var j = 0; j < order.Length; j++)
            inverse[order[j]] = j;
        return stacked.index_select(0, tensor(inverse, dtype: ScalarType.Int64)).to(risk.Device).MoveToOuterDisposeScope();
    }

    public SampleMargins SampleMargins(SampleMarginOptions options, CancellationToken cancellationToken)
    {
        options = SampleMarginEstimator.CheckOptions(options);
        using var scope = NewDisposeScope();
        var json = JsonSerializer.Serialize(options);
        var parts = Wait(cluster.GeometryAsync(config, _ => (new GeometryRequest { Kind = GeometryKind.SampleMargins, OptionsJson = json }, []), cancellationToken));
        var width = parts[0]!.Shape[1];
        var rows = Rows(parts, width);
        var n = (int)rows.shape[0];
        var d = (int)width - 6;
        var values = rows.contiguous().data<double>().ToArray();
        var distances = new double[n];
        var classes = new int[n][];
        var status = new SampleMarginStatus[n];
        var points = new double[n][];
        var gaps = new double[n];
        var iterations = new int[n];
        for (var j = 0; j < n; j++)
        {
            var row = values.AsSpan(j * (int)width, (int)width);
            distances[j] = row[0];
            classes[j] = [(int)row[1], (int)row[2]];
            status[j] = (SampleMarginStatus)(int)row[3];
            gaps[j] = row[4];
            iterations[j] = (int)row[5];
            points[j] = row.Slice(6, d).ToArray();
        }
        return new SampleMargins(distances, classes, status, points, gaps, iterations, DistributionSummary.Of(distances));
    }

    public BoundaryCurvature[] CurvatureAtSamples(int[] indices, SampleMargins margins, SampleMarginOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(margins);
        options = SampleMarginEstimator.CheckOptions(options);
        var json = JsonSerializer.Serialize(options);
        // Each shard gets the boundary points of its own inputs (with their two classes) and computes their curvature.
        var positions = PositionsPerShard(indices.Select(i => (long)i).ToArray());
        var parts = Wait(cluster.GeometryAsync(config, s =>
        {
            var mine = positions[IndexOf(s)];
            if (mine.Length == 0)
                return null;
            var rows = mine.SelectMany(j => margins.BoundaryPoints[indices[j]].Append(margins.Classes[indices[j]][0]).Append(margins.Classes[indices[j]][1])).ToArray();
            return (new GeometryRequest { Kind = GeometryKind.CurvatureAtSamples, OptionsJson = json }, DoubleBytes(rows));
        }, cancellationToken));
        var result = new BoundaryCurvature[indices.Length];
        for (var s = 0; s < parts.Length; s++)
        {
            if (parts[s] is not { } part)
                continue;
            var curvatures = JsonSerializer.Deserialize<BoundaryCurvature[]>(part.Bytes, ShardGeometry.CurvatureJson)
                ?? throw new InvalidOperationException("A worker returned no boundary curvatures.");
            if (curvatures.Length != positions[s].Length)
                throw new InvalidOperationException($"A worker returned {curvatures.Length} boundary curvatures for {positions[s].Length} points.");
            for (var j = 0; j < curvatures.Length; j++)
                result[positions[s][j]] = curvatures[j];
        }
        return result;
    }

    public int[]? PiecesCrossed(int[] indices, SampleMargins margins, int samples, out string reason)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(margins);
        var global = indices.Select(i => (long)i).ToArray();
        var positions = PositionsPerShard(global);
        var parts = Wait(cluster.GeometryAsync(config, s =>
        {
            var mine = positions[IndexOf(s)];
            if (mine.Length == 0)
                return null;
            var request = new GeometryRequest { Kind = GeometryKind.PiecesCrossed, Indices = mine.Select(j => global[j] - s.Start).ToArray(), PieceSamples = samples };
            return (request, DoubleBytes(mine.SelectMany(j => margins.BoundaryPoints[indices[j]]).ToArray()));
        }, CancellationToken.None));
        reason = parts.Select(p => p?.Note).FirstOrDefault(n => !string.IsNullOrEmpty(n)) ?? "";
        var result = new int[indices.Length];
        for (var s = 0; s < parts.Length; s++)
        {
            if (parts[s] is not { } part)
                continue;
            // The count needs the model's activation modules, the same on every worker: one that cannot count means none can.
            if (part.Shape.Length == 1 && part.Shape[0] == 0 && positions[s].Length > 0)
            {
                reason = part.Note ?? reason;
                return null;
            }
            var counts = part.ToTensor().data<double>().ToArray();
            for (var j = 0; j < counts.Length; j++)
                result[positions[s][j]] = (int)counts[j];
        }
        return result;
    }

    /// <summary>Per shard, the positions in <paramref name="indices"/> of the inputs it holds, in the order given.</summary>
    private int[][] PositionsPerShard(long[] indices)
    {
        var n = InputCount;
        foreach (var i in indices)
        {
            if (i < 0 || i >= n)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Input {i} is outside the cluster's {n} samples.");
        }
        return cluster.Shards.Select(s => Enumerable.Range(0, indices.Length).Where(j => indices[j] >= s.Start && indices[j] < s.Start + s.Length).ToArray()).ToArray();
    }

    private static byte[] DoubleBytes(double[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>The shards' [n_s, width] rows stacked in sample order, checked to cover all n samples.</summary>
    private Tensor Rows(ShardRows?[] parts, long width)
    {
        foreach (var p in parts)
        {
            if (p!.Shape.Length != 2 || p.Shape[1] != width)
                throw new InvalidOperationException($"A worker returned rows of shape [{string.Join(", ", p.Shape)}] where [n_s, {width}] was expected; the worker runs a different library version.");
        }
        var rows = cat(parts.Select(p => p!.ToTensor()).ToList(), 0);
        CheckCount(rows.shape[0]);
        return rows;
    }

    private void CheckCount(long rows)
    {
        if (rows != InputCount)
            throw new InvalidOperationException($"The workers returned {rows} per-sample rows for {InputCount} samples.");
    }

    private int IndexOf(ShardInfo shard)
    {
        var shards = cluster.Shards;
        for (var s = 0; s < shards.Count; s++)
        {
            if (shards[s].Start == shard.Start && shards[s].Length == shard.Length)
                return s;
        }
        throw new InvalidOperationException($"Shard {shard.Shard} is not one of the cluster's.");
    }

    /// <summary>The stages call synchronously; the cluster answers asynchronously.</summary>
    private static T Wait<T>(Task<T> task) => task.ConfigureAwait(false).GetAwaiter().GetResult();
}
