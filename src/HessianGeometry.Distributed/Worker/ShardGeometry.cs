using System.Text.Json;
using HessianGeometry.Distributed.Grains;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// A shard's per-sample geometry: the single-process <see cref="LocalSampleGeometry"/> over the shard's risk and rows,
/// packed as raw rows for the client (which concatenates the shards in sample order and reduces over all n).
/// </summary>
/// <remarks>
/// Row layouts (float64): alignment [n_s, k + 3] = (cosines with the k directions, ‖g‖, ŷ, logit gap); output-gradient
/// scale [n_s]; sample margins [n_s, 6 + d] = (distance, k, b, status, logit gap, iterations, boundary point);
/// input rows in the prepared inputs' own dtype and shape; linear pieces [m]; boundary curvatures as UTF-8 JSON (their
/// principal curvatures vary in number).
/// </remarks>
internal static class ShardGeometry
{
    public static (byte[] Bytes, long[] Shape, ScalarType DType, string? Note) Compute(EmpiricalRisk risk, Tensor x, GeometryRequest request, byte[] directions, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var geometry = new LocalSampleGeometry(risk, x);
        switch (request.Kind)
        {
            case GeometryKind.Alignment:
            case GeometryKind.AlignmentExplicit:
            {
                var options = Options<AlignmentOptions>(request);
                var v = Payload.FromBytes(directions, ScalarType.Float64, request.Columns, risk.Dimension).T;
                using var a = geometry.Alignment(v, options, request.Kind == GeometryKind.AlignmentExplicit, cancellationToken);
                var n = a.InputCount;
                var rows = cat([
                    a.Alignment.to(ScalarType.Float64).cpu(),
                    tensor(a.GradientNorms, dtype: ScalarType.Float64).unsqueeze(1),
                    tensor(a.PredictedClasses, dtype: ScalarType.Int64).to(ScalarType.Float64).unsqueeze(1),
                    tensor(a.LogitGaps, dtype: ScalarType.Float64).unsqueeze(1),
                ], 1);
                return (Payload.ToBytes(rows), [n, a.EigenvectorCount + 3], ScalarType.Float64, null);
            }
            case GeometryKind.OutputGradientScale:
            {
                var scale = geometry.OutputGradientScale(Options<AlignmentOptions>(request), cancellationToken);
                return (Payload.ToBytes(tensor(scale, dtype: ScalarType.Float64)), [scale.Length], ScalarType.Float64, null);
            }
            case GeometryKind.InputRows:
            {
                CheckIndices(request, x);
                var rows = geometry.InputRows(request.Indices);
                return (Payload.ToBytes(rows), rows.shape, rows.dtype, null);
            }
            case GeometryKind.SampleMargins:
            {
                var m = geometry.SampleMargins(Options<SampleMarginOptions>(request), cancellationToken);
                var n = m.Distances.Length;
                var d = n == 0 ? 0 : m.BoundaryPoints[0].Length;
                var values = new double[n * (6 + d)];
                for (var j = 0; j < n; j++)
                {
                    var row = values.AsSpan(j * (6 + d), 6 + d);
                    row[0] = m.Distances[j];
                    row[1] = m.Classes[j][0];
                    row[2] = m.Classes[j][1];
                    row[3] = (int)m.Status[j];
                    row[4] = m.LogitGaps[j];
                    row[5] = m.Iterations[j];
                    m.BoundaryPoints[j].CopyTo(row[6..]);
                }
                return (Payload.ToBytes(tensor(values, dtype: ScalarType.Float64)), [n, 6 + d], ScalarType.Float64, null);
            }
            case GeometryKind.CurvatureAtSamples:
            {
                var options = Options<SampleMarginOptions>(request);
                var rowShape = x.shape.Skip(1).ToArray();
                var d = (int)rowShape.Aggregate(1L, (a, b) => a * b);
                var rows = Rows(directions, d + 2);
                var curvatures = LocalSampleGeometry.Curvatures(risk, rowShape, [.. rows.Select(r => r[..d])], [.. rows.Select(r => (int)r[d])], [.. rows.Select(r => (int)r[d + 1])],
                    options, cancellationToken);
                var json = JsonSerializer.SerializeToUtf8Bytes(curvatures, CurvatureJson);
                return (json, [curvatures.Length], ScalarType.Byte, null);
            }
            case GeometryKind.PiecesCrossed:
            {
                CheckIndices(request, x);
                var starts = geometry.InputRows(request.Indices);
                var d = (int)(starts.numel() / Math.Max(1, starts.shape[0]));
                var rows = Rows(directions, d);
                if (rows.Length != request.Indices.Length)
                    throw new InvalidOperationException($"{rows.Length} boundary points came for {request.Indices.Length} inputs.");
                var ends = tensor(rows.SelectMany(r => r).ToArray(), dtype: ScalarType.Float64).to(starts.dtype, starts.device).reshape(starts.shape);
                var counts = LinearPieces.Count(risk, starts, ends, request.PieceSamples, out var reason);
                return counts is null
                    ? ([], [0], ScalarType.Float64, reason)
                    : (Payload.ToBytes(tensor(counts.Select(c => (double)c).ToArray(), dtype: ScalarType.Float64)), [counts.Length], ScalarType.Float64, reason);
            }
            default:
                throw new NotSupportedException($"Unknown geometry request {request.Kind}; the client is newer than this worker.");
        }
    }

    /// <summary>Boundary curvatures travel as JSON (records of varying length); NaN curvatures (d = 1, zero gradient) included.</summary>
    internal static JsonSerializerOptions CurvatureJson { get; } = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static void CheckIndices(GeometryRequest request, Tensor x)
    {
        foreach (var i in request.Indices)
        {
            if (i < 0 || i >= x.shape[0])
                throw new ArgumentOutOfRangeException(nameof(request), i, $"Row {i} is outside this shard's {x.shape[0]} samples.");
        }
    }

    /// <summary>The broadcast payload as rows of <paramref name="width"/> float64 values.</summary>
    private static double[][] Rows(byte[] payload, int width)
    {
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(payload);
        if (width < 1 || values.Length % width != 0)
            throw new InvalidOperationException($"A payload of {values.Length} values is not a whole number of rows of {width}.");
        var rows = new double[values.Length / width][];
        for (var j = 0; j < rows.Length; j++)
            rows[j] = values.Slice(j * width, width).ToArray();
        return rows;
    }

    private static T Options<T>(GeometryRequest request) =>
        JsonSerializer.Deserialize<T>(request.OptionsJson) ?? throw new InvalidOperationException($"The {typeof(T).Name} of a geometry request are empty.");
}
