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
/// input rows in the prepared inputs' own dtype and shape.
/// </remarks>
internal static class ShardGeometry
{
    public static (byte[] Bytes, long[] Shape, ScalarType DType) Compute(EmpiricalRisk risk, Tensor x, GeometryRequest request, byte[] directions, CancellationToken cancellationToken)
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
                return (Payload.ToBytes(rows), [n, a.EigenvectorCount + 3], ScalarType.Float64);
            }
            case GeometryKind.OutputGradientScale:
            {
                var scale = geometry.OutputGradientScale(Options<AlignmentOptions>(request), cancellationToken);
                return (Payload.ToBytes(tensor(scale, dtype: ScalarType.Float64)), [scale.Length], ScalarType.Float64);
            }
            case GeometryKind.InputRows:
            {
                foreach (var i in request.Indices)
                {
                    if (i < 0 || i >= x.shape[0])
                        throw new ArgumentOutOfRangeException(nameof(request), i, $"Row {i} is outside this shard's {x.shape[0]} samples.");
                }
                var rows = geometry.InputRows(request.Indices);
                return (Payload.ToBytes(rows), rows.shape, rows.dtype);
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
                return (Payload.ToBytes(tensor(values, dtype: ScalarType.Float64)), [n, 6 + d], ScalarType.Float64);
            }
            default:
                throw new NotSupportedException($"Unknown geometry request {request.Kind}; the client is newer than this worker.");
        }
    }

    private static T Options<T>(GeometryRequest request) =>
        JsonSerializer.Deserialize<T>(request.OptionsJson) ?? throw new InvalidOperationException($"The {typeof(T).Name} of a geometry request are empty.");
}
